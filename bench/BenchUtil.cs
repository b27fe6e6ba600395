using System.Diagnostics;
using System.Text.Json;

namespace Strix.Bench;

/// <summary>Timing helpers shared by the benchmarks: warm-up, then the median of repeated runs.</summary>
public static class BenchUtil
{
    /// <summary>Median milliseconds of <paramref name="action"/> over <paramref name="runs"/> after <paramref name="warmup"/> runs.</summary>
    public static double MedianMs(Action action, int runs = 10, int warmup = 2)
    {
        for (int i = 0; i < warmup; i++) action();
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            action();
            times[i] = sw.Elapsed.TotalMilliseconds;
        }
        return Median(times);
    }

    /// <summary>The median of <paramref name="values"/> (the mean of the middle two for an even count).</summary>
    public static double Median(IEnumerable<double> values)
    {
        var s = values.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }

    public static double Round(double v, int digits = 2) => Math.Round(v, digits);

    /// <summary>The <c>key=value</c> arguments of a benchmark (others are ignored).</summary>
    public static Dictionary<string, string> Options(IEnumerable<string> args) =>
        args.Select(s => s.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);

    public static void Print(object result) =>
        Console.WriteLine(JsonSerializer.Serialize(result, new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>Machine facts printed with every result so numbers are never read without context.</summary>
    public static object Machine() => new
    {
        cores = Environment.ProcessorCount,
        torch_threads = TorchSharp.torch.get_num_threads(),
        os = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        cpu = CpuModel(),
    };

    static string CpuModel()
    {
        try { return File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown"; }
        catch (IOException) { return "unknown"; }
    }
}
