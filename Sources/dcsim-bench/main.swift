// dcsim-bench: the benchmark driver behind Scripts/bench.sh.
//
// Each suite prints one line per measurement in `key=value` form so Scripts/bench.sh can
// put dcsim's figure next to the C/Python reference measured in the same run and print
// the ratio. Benchmarks are never part of `swift test`.
#if canImport(Glibc)
import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
guard let suite = arguments.first else {
    print("usage: dcsim-bench kernel|network|pipeline [options]")
    exit(2)
}
let rest = Array(arguments.dropFirst())
switch suite {
case "kernel": KernelBench.run(rest)
case "network": NetworkBench.run(rest)
case "pipeline": PipelineBench.run(rest)
default:
    print("dcsim-bench: unknown suite '\(suite)' (allowed: kernel, network, pipeline)")
    exit(2)
}
