namespace Strix.Tests.Eval;

/// <summary>Temporary folders deleted when the test ends (xunit disposes the test class after each test).</summary>
public sealed class Scratch : IDisposable
{
    readonly List<string> _dirs = new();

    public string NewDir(string prefix = "strix-eval")
    {
        var d = TestPaths.NewTempDir(prefix);
        _dirs.Add(d);
        return d;
    }

    public void Dispose()
    {
        foreach (var d in _dirs)
        {
            try { Directory.Delete(d, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* best effort */ }
        }
    }
}
