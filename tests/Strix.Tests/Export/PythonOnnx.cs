using System.Diagnostics;

namespace Strix.Tests.Export;

/// <summary>
/// Runs Debian's python3-onnx (/usr/bin/python3) — ONNX's own checker and shape inference —
/// as an independent judge of our files. CI installs it (.ci/run: python3-onnx).
/// </summary>
internal static class PythonOnnx
{
    public const string Python = "/usr/bin/python3";

    static readonly Lazy<string?> _missing = new(() =>
    {
        if (!File.Exists(Python)) return $"{Python} is not installed";
        var (code, output) = Run("import onnx; print(onnx.__version__)");
        return code == 0 ? null : $"{Python} cannot import onnx (install Debian's python3-onnx): {output.Trim()}";
    });

    /// <summary>Why the checker cannot run here, or null when it can.</summary>
    public static string? Missing => _missing.Value;

    /// <summary>Runs a Python snippet; returns the exit code and stdout+stderr.</summary>
    public static (int Code, string Output) Run(string code, params string[] args)
    {
        var psi = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(code);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000)) { p.Kill(); return (-1, "timed out"); }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }
}

/// <summary>
/// A fact that is skipped, with the reason, when /usr/bin/python3 has no onnx module — except under CI
/// (<see cref="Requires.InCi"/>), where it runs and fails on the missing checker, so CI keeps checking.
/// </summary>
public sealed class PythonOnnxFactAttribute : FactAttribute
{
    public PythonOnnxFactAttribute()
    {
        if (PythonOnnx.Missing is { } why && !Requires.InCi) Skip = why;
    }
}

/// <summary>The theory form of <see cref="PythonOnnxFactAttribute"/>.</summary>
public sealed class PythonOnnxTheoryAttribute : TheoryAttribute
{
    public PythonOnnxTheoryAttribute()
    {
        if (PythonOnnx.Missing is { } why && !Requires.InCi) Skip = why;
    }
}
