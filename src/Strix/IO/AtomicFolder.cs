namespace Strix.IO;

/// <summary>
/// A folder that appears whole or not at all: built in a temporary sibling, then renamed into place. A folder is
/// complete when its marker file exists; a leftover without the marker (a crash mid-build) is replaced.
/// Concurrent builders may both build; the first rename wins and the other copy is discarded.
/// </summary>
public static class AtomicFolder
{
    /// <summary>Builds <paramref name="final"/> with <paramref name="build"/> (given the temporary folder) unless <paramref name="marker"/> exists in it; true when it built.</summary>
    public static bool Ensure(string final, string marker, Action<string> build)
    {
        final = Path.GetFullPath(final);
        var done = Path.Combine(final, marker);
        if (File.Exists(done)) return false;
        var parent = Path.GetDirectoryName(final)!;
        Directory.CreateDirectory(parent);
        var tmp = Path.Combine(parent, $".{Path.GetFileName(final)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            build(tmp);
            if (!File.Exists(Path.Combine(tmp, marker))) throw new InvalidOperationException($"building {final} wrote no {marker}");
            if (Directory.Exists(final) && !File.Exists(done)) Directory.Delete(final, recursive: true); // a broken leftover
            try { Directory.Move(tmp, final); }
            catch (IOException) when (File.Exists(done)) { /* another process finished first */ }
        }
        finally
        {
            if (Directory.Exists(tmp)) try { Directory.Delete(tmp, recursive: true); } catch (IOException) { }
        }
        return true;
    }
}
