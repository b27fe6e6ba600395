namespace Strix.Tests;

/// <summary>Locations tests need: the repository root and the shared real-data assets beside it.</summary>
public static class TestPaths
{
    /// <summary>The repository root (the folder holding Strix.slnx).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>
    /// <c>../shared/assets</c> next to the checkout (coco8, coco128 with its COCO json, sample photos): real data
    /// CI has and a user's clone may not. Tests never use it directly: <see cref="Asset"/> reads through a mirror.
    /// </summary>
    public static string SharedAssets { get; } = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "assets"));

    /// <summary>Where to get the shared data, for skip messages.</summary>
    public const string SharedAssetsHint =
        "put Ultralytics' coco8 and coco128 datasets (with coco128's COCO annotations json) and the sample photos bus.jpg and zidane.jpg " +
        "in ../shared/assets beside the checkout, laid out as its README says; CI provides them";

    /// <summary>
    /// A path under the shared assets, read through a mirror of them in the temp folder (real folders, files linked to
    /// the shared ones), so what a test writes beside the data (label caches) lands in the mirror and nothing is ever
    /// written into ../shared. Missing data skips the test, saying where to get it (under CI it fails instead).
    /// </summary>
    public static string Asset(params string[] parts)
    {
        var shared = Path.Combine(new[] { SharedAssets }.Concat(parts).ToArray());
        Requires.Available(File.Exists(shared) || Directory.Exists(shared), $"the shared test data {shared} is missing: {SharedAssetsHint}");
        return Path.Combine(new[] { Mirror.Value }.Concat(parts).ToArray());
    }

    static readonly Lazy<string> Mirror = new(() =>
    {
        var root = NewTempDir("strix-assets");
        foreach (var dir in Directory.EnumerateDirectories(SharedAssets, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(root, Path.GetRelativePath(SharedAssets, dir)));
        foreach (var file in Directory.EnumerateFiles(SharedAssets, "*", SearchOption.AllDirectories))
        {
            var link = Path.Combine(root, Path.GetRelativePath(SharedAssets, file));
            try { File.CreateSymbolicLink(link, file); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { File.Copy(file, link); } // no symlink rights (Windows)
        }
        return root;
    });

    /// <summary>Test fixtures committed under tests/Strix.Tests/Fixtures.</summary>
    public static string Fixture(params string[] parts) =>
        Path.Combine(new[] { RepoRoot, "tests", "Strix.Tests", "Fixtures" }.Concat(parts).ToArray());

    static readonly List<string> Created = new();

    static TestPaths()
    {
        RemoveLeftovers();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Created) foreach (var d in Created) TryDelete(d);
        };
    }

    static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>
    /// The test host may be stopped before its exit handler has deleted everything; folders of test runs whose
    /// process is gone (the pid is in the name) are removed when the next run starts, so the temp folder never fills.
    /// </summary>
    static void RemoveLeftovers()
    {
        foreach (var dir in Directory.EnumerateDirectories(Path.GetTempPath(), "strix-*"))
        {
            var m = System.Text.RegularExpressions.Regex.Match(Path.GetFileName(dir), @"^strix-[a-z-]+-(\d+)-[0-9a-f]{32}$");
            if (m.Success && int.TryParse(m.Groups[1].Value, out var pid) && !IsRunning(pid)) TryDelete(dir);
        }
    }

    static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }

    /// <summary>A fresh empty temporary folder, deleted when the test run ends (or, if the run is killed, by the next run).</summary>
    public static string NewTempDir(string prefix = "strix-test")
    {
        var d = Path.Combine(Path.GetTempPath(), $"{prefix}-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(d);
        lock (Created) Created.Add(d);
        return d;
    }

    static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Strix.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (Strix.slnx) above " + AppContext.BaseDirectory);
    }
}
