using System.Diagnostics;
using System.Text;

namespace Strix.Tests.Distributed;

/// <summary>
/// Runs <c>mpirun -np N dotnet Strix.MpiHost.dll SCENARIO</c> on the already-built test host
/// (tests/Strix.MpiHost, built with the solution: the test project references it without its assembly).
/// A missing mpirun or host is a test failure with a clear message, never a silent pass.
/// </summary>
public static class MpiRun
{
    public sealed record Result(int ExitCode, string StdOut, string StdErr, TimeSpan Elapsed)
    {
        public string All => StdOut + "\n" + StdErr;

        /// <summary>Values of every <c>RESULT key=value …</c> line rank 0 printed.</summary>
        public Dictionary<string, string> Values()
        {
            var d = new Dictionary<string, string>();
            foreach (var line in StdOut.Split('\n'))
            {
                var i = line.IndexOf("RESULT ", StringComparison.Ordinal);
                if (i < 0) continue;
                foreach (var kv in line[(i + 7)..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries))
                {
                    var parts = kv.Split('=', 2);
                    if (parts.Length == 2) d[parts[0]] = parts[1];
                }
            }
            return d;
        }

        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s\n--- stdout\n{StdOut}\n--- stderr\n{StdErr}";
    }

    public static string MpirunPath()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var p = Path.Combine(dir, "mpirun");
            if (File.Exists(p)) return p;
        }
        Requires.Available(false, "mpirun is not on PATH: the distributed tests need Open MPI (Debian/Ubuntu: apt-get install openmpi-bin libopenmpi-dev; .ci/run installs it)");
        return ""; // not reached: Available throws
    }

    /// <summary>tests/Strix.MpiHost/bin/{same configuration}/{same framework}/Strix.MpiHost.dll.</summary>
    public static string HostDll()
    {
        var baseDir = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string tfm = baseDir.Name, config = baseDir.Parent?.Name ?? "Debug";
        var dll = Path.Combine(TestPaths.RepoRoot, "tests", "Strix.MpiHost", "bin", config, tfm, "Strix.MpiHost.dll");
        if (!File.Exists(dll))
            throw new FileNotFoundException($"the MPI test host was not built: {dll} is missing (build the solution, or `dotnet build tests/Strix.MpiHost -c {config}`)");
        return dll;
    }

    /// <summary>tests/…/bin/{config}/{tfm}/Strix.Cli.dll: the <c>strix</c> command, built with the solution (the test project references it).</summary>
    public static string CliDll()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Strix.Cli.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"the strix command was not built next to the tests: {dll} is missing");
        return dll;
    }

    /// <summary><c>mpirun -np ranks dotnet Strix.MpiHost.dll scenario args…</c>.</summary>
    public static Result Run(int ranks, string scenario, TimeSpan limit, params string[] args) =>
        RunDll(ranks, HostDll(), limit, null, new[] { scenario }.Concat(args).ToArray());

    /// <summary><c>mpirun -np ranks dotnet dll args…</c> in <paramref name="workDir"/> (default: the current folder).</summary>
    public static Result RunDll(int ranks, string dll, TimeSpan limit, string? workDir, params string[] args) =>
        RunProcess(MpirunPath(),
            new[] { "--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", ranks.ToString(), "dotnet", dll }.Concat(args),
            limit, workDir, Path.GetFileNameWithoutExtension(dll) + " " + string.Join(" ", args.Take(1)), env =>
            {
                // Shared-memory transport without cross-process memory attach (CMA), which containers often forbid.
                env["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
                env.Remove("OMP_NUM_THREADS");
            });

    /// <summary><c>dotnet dll args…</c> as one plain process (no mpirun).</summary>
    public static Result RunSingle(string dll, TimeSpan limit, params string[] args) =>
        RunProcess("dotnet", new[] { dll }.Concat(args), limit, null, Path.GetFileNameWithoutExtension(dll) + " " + string.Join(" ", args.Take(1)), null);

    static Result RunProcess(string program, IEnumerable<string> args, TimeSpan limit, string? workDir, string what, Action<IDictionary<string, string?>>? environment)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        environment?.Invoke(psi.Environment);

        var sw = Stopwatch.StartNew();
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {program}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(limit))
        {
            try { p.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            p.WaitForExit();
            throw new TimeoutException($"{Path.GetFileName(program)} {what} did not finish within {limit.TotalSeconds:F0} s (a hang):\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
        }
        p.WaitForExit(); // flush the async readers
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString(), sw.Elapsed);
    }
}
