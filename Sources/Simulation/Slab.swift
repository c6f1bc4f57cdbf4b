/// A slot array with a free list: stable small integer handles for values in flight
/// (messages on the wire, timers, disk jobs), reused so the steady state allocates nothing.
struct Slab<Element> {
    private var items: ContiguousArray<Element?> = []
    private var free: ContiguousArray<UInt32> = []
    private(set) var count = 0

    mutating func insert(_ e: Element) -> UInt32 {
        count += 1
        if let i = free.popLast() {
            items[Int(i)] = e
            return i
        }
        items.append(e)
        return UInt32(items.count - 1)
    }

    /// The element at an occupied `slot`.
    subscript(slot: UInt32) -> Element {
        get {
            guard let e = items[Int(slot)] else { preconditionFailure("Slab: slot \(slot) is empty") }
            return e
        }
        set { items[Int(slot)] = newValue }
    }

    /// The element at `slot`, or nil when the slot is empty or was never used.
    @inline(__always) func element(at slot: UInt32) -> Element? {
        Int(slot) < items.count ? items[Int(slot)] : nil
    }

    /// Calls `body` with every element, in slot order.
    func forEach(_ body: (Element) -> Void) {
        for case let e? in items { body(e) }
    }

    /// Removes and returns the element at `slot`.
    mutating func remove(_ slot: UInt32) -> Element {
        guard let e = items[Int(slot)] else {
            preconditionFailure("Slab: slot \(slot) is empty")
        }
        items[Int(slot)] = nil
        free.append(slot)
        count -= 1
        return e
    }
}
