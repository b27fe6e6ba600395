using Xunit;

namespace Strix.Tests;

/// <summary>
/// Preconditions a test cannot meet on every machine (a platform, a device, a system tool, shared data).
/// Unmet, the test is reported as skipped with the reason — never a silent pass. Under CI (<c>CI=true</c>,
/// which <c>.ci/run</c> sets) a missing tool or missing data fails instead, so CI keeps running everything;
/// platform and device conditions stay skips there (the CI machine has one platform and no GPU).
/// Use with <c>[SkippableFact]</c> / <c>[SkippableTheory]</c>.
/// </summary>
public static class Requires
{
    /// <summary>True when running under CI, where a missing prerequisite is an error.</summary>
    public static bool InCi => Environment.GetEnvironmentVariable("CI") is { } v && (v == "1" || v.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>Skips unless on Linux (<paramref name="why"/>: what the test needs Linux for).</summary>
    public static void Linux(string why) => Skip.IfNot(OperatingSystem.IsLinux(), $"Linux only: {why}");

    /// <summary>Skips on Windows (<paramref name="why"/>: what Windows lacks).</summary>
    public static void NotWindows(string why) => Skip.If(OperatingSystem.IsWindows(), $"not on Windows: {why}");

    /// <summary>Skips when a CUDA device is present (<paramref name="why"/>: what the test checks on a CPU-only machine).</summary>
    public static void NoCuda(string why) => Skip.If(TorchSharp.torch.cuda.is_available(), $"CPU-only machines: {why}");

    /// <summary>A missing tool or data set: a skip naming how to get it, or under CI a failure.</summary>
    public static void Available(bool condition, string missing)
    {
        if (condition) return;
        if (InCi) throw new Xunit.Sdk.XunitException($"missing under CI (CI=true), where every test must run: {missing}");
        throw new SkipException(missing);
    }

    /// <summary>Video decoding and encoding (OpenCV's native library, which needs GTK 3 on Linux): a skip naming the package, or under CI a failure.</summary>
    public static void Video() =>
        Available(Strix.Inference.Sources.OpenCv.IsAvailable, $"{Strix.Inference.Sources.OpenCv.UnavailableReason} (.ci/run installs libgtk-3-0)");
}
