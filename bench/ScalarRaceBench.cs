using Strix.Runtime;
using TorchSharp;
using static TorchSharp.torch;
namespace Strix.Bench;
/// <summary>
/// Reproduces TorchSharp 0.107's Scalar finalizer race: <c>a + b</c> and <c>c * 0.5</c> create Scalars
/// nothing references while libtorch reads them; with another thread allocating (as data-loader
/// workers do) a GC can finalize (free) them mid-op. <c>bench -- scalar-race 30</c> usually fails within
/// seconds ("Unknown scalar type" / "Expected false to be true"); <c>bench -- scalar-race 30 safe</c>
/// passes the same values as Scalars that are kept alive and does not; <c>scope</c> runs the implicit
/// form inside a DisposeScope, which does not help (scopes track tensors, not Scalars).
/// </summary>
public static class ScalarRaceBench
{
    static readonly Scalar One = 1.ToScalar();
    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "train") return Train(args.Skip(1).ToArray());
        var a = randn(64, 64, 32, 32); var b = randn(64, 64, 32, 32);
        using var garbage = new GarbageThread();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        long i = 0;
        bool safe = args.Length > 1 && args[1] == "safe";
        try
        {
            while (sw.Elapsed.TotalSeconds < double.Parse(args.Length > 0 ? args[0] : "30"))
            {
                if (safe)
                {
                    using var half = 0.5.ToScalar();
                    using var c = a.add(b, One);
                    using var d = c.mul(half);
                }
                else if (args.Length > 1 && args[1] == "scope")
                {
                    using var scope = NewDisposeScope();
                    var c = a + b;
                    var d = c * 0.5;
                }
                else
                {
                    using var c = a + b;
                    using var d = c * 0.5;
                }
                i++;
            }
            Console.WriteLine($"no crash after {i} iterations, {GC.CollectionCount(0)} GCs");
        }
        catch (Exception e) { Console.WriteLine($"crash after {i} iterations ({GC.CollectionCount(0)} GCs): {e.Message.Split('\n')[0]}"); }
        return 0;
    }

    /// <summary>
    /// <c>bench -- scalar-race train seconds=300 [data=shapes]</c>: the real training loop (yolov8n, imgsz 128,
    /// loaders, loss, EMA, validation every epoch) with a thread allocating garbage beside it, so GCs (and
    /// finalizers) run far more often than in a normal run. Code that passes libtorch unheld Scalars dies
    /// here quickly; the result says how long the loop ran and how many GCs it went through.
    /// </summary>
    static int Train(string[] args)
    {
        var a = BenchUtil.Options(args);
        double seconds = double.Parse(a.GetValueOrDefault("seconds", "300"), System.Globalization.CultureInfo.InvariantCulture);
        var dir = Path.Combine(Path.GetTempPath(), $"strix-scalar-race-{Guid.NewGuid():N}");
        using var garbage = new GarbageThread();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        int gcs = GC.CollectionCount(0);
        try
        {
            var targs = Strix.Config.ConfigRecords.Parse<Strix.Config.TrainConfig>(new Dictionary<string, string>
            {
                ["data"] = a.GetValueOrDefault("data", "shapes"), ["model"] = "yolov8n", ["imgsz"] = "128", ["batch"] = "8",
                ["epochs"] = "1000", ["time"] = (seconds / 3600).ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["fraction"] = "0.2", ["workers"] = "2", ["plots"] = "false", ["project"] = dir,
            });
            var r = Strix.Tasks.YoloTraining.Run(targs, TextWriter.Null);
            Console.WriteLine($"no crash: {r.Fit.GlobalStep} optimizer steps in {sw.Elapsed.TotalSeconds:F0} s, {GC.CollectionCount(0) - gcs} GCs");
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
        return 0;
    }

    /// <summary>A thread allocating 200 KB arrays until disposed: frequent GCs, as busy data-loader workers cause.</summary>
    sealed class GarbageThread : IDisposable
    {
        volatile bool _stop;
        public GarbageThread() =>
            new Thread(() => { while (!_stop) { var x = new byte[200_000]; x[0] = 1; } }) { IsBackground = true }.Start();
        public void Dispose() => _stop = true;
    }
}
