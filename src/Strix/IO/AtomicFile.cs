namespace Strix.IO;

/// <summary>
/// Writes that matter (weights, checkpoints, exports, caches) go to a temporary file in the same
/// folder and are renamed over the target, so a crash never leaves a half-written file behind.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy, 0, copy.Length));
    }

    public static void WriteAllText(string path, string text) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>Streams content through <paramref name="write"/> into a temp file, flushes to disk, then renames.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        RemoveStaleTemps(dir, Path.GetFileName(full));
        var tmp = Path.Combine(dir, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var fs = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(tmp); } catch { /* best effort */ }
            throw;
        }
    }

    /// <summary>
    /// A process killed in the middle of a write (SIGKILL, power loss, a second Ctrl+C) cannot delete its temp
    /// file; the next write of the same target removes those left by processes that no longer run.
    /// </summary>
    internal static void RemoveStaleTemps(string dir, string fileName)
    {
        IEnumerable<string> candidates;
        try { candidates = Directory.EnumerateFiles(dir, $".{fileName}.*.tmp").ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return; }
        var prefix = $".{fileName}.";
        foreach (var f in candidates)
        {
            var rest = Path.GetFileName(f)[prefix.Length..^".tmp".Length]; // "<pid>.<guid>"
            int dot = rest.IndexOf('.');
            if (dot <= 0 || rest.Length - dot - 1 != 32 || !int.TryParse(rest.AsSpan(0, dot), out var pid)) continue;
            if (IsRunning(pid)) continue;
            try { File.Delete(f); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* another writer's turn */ }
        }
    }

    static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try { using var p = System.Diagnostics.Process.GetProcessById(pid); return !p.HasExited; }
        catch (ArgumentException) { return false; }
        catch (InvalidOperationException) { return false; }
    }
}
