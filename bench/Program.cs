using Strix.Bench;

// `dotnet run -c Release --project bench -- NAME [key=value ...]` runs one benchmark and prints JSON.
var benches = new Dictionary<string, Func<string[], int>>(StringComparer.OrdinalIgnoreCase)
{
    ["infer"] = InferBench.Run,
    ["data"] = DataBench.Run,
    ["metrics"] = MetricsBench.Run,
    ["ddp"] = DdpBench.Run, // under MPI: mpirun --allow-run-as-root -np 2 dotnet bench/bin/Release/net10.0/Strix.Bench.dll ddp
    ["export"] = ExportBench.Run,
    ["train"] = TrainBench.Run,
    ["models"] = ModelsBench.Run,
    ["layers"] = LayersBench.Run,
    ["track"] = TrackBench.Run,
    ["scalar-race"] = ScalarRaceBench.Run,
    ["amp-grads"] = AmpGradsBench.Run,
    ["seg"] = SegBench.Run,
    ["seg-train"] = SegTrainBench.Run,
};

if (args.Length == 0 || !benches.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: bench NAME   (one of: {string.Join(", ", benches.Keys)})");
    return 2;
}
return run(args[1..]);
