enum PipelineBench {
    static func run(_ args: [String]) { print("pipeline bench: not yet built") }
}
