enum KernelBench {
    static func run(_ args: [String]) { print("kernel bench: not yet built") }
}
enum NetworkBench {
    static func run(_ args: [String]) { print("network bench: not yet built") }
}
