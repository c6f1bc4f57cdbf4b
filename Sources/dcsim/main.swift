print("dcsim")
