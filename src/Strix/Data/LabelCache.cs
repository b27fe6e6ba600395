using Strix.IO;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Strix.Data;

/// <summary>
/// Stores the result of the check pass beside the labels (<c>labels/train2017.strix.cache</c>, where
/// Ultralytics keeps its own) so that the next run starts instantly. The file carries a format version, a key hashed from
/// every image and label path, size and modification time (and the class count), and a checksum:
/// a stale or damaged cache is rebuilt, never trusted. Written atomically; when the folder is
/// read-only the result is kept in process memory instead.
/// </summary>
public static class LabelCache
{
    /// <summary>Bumped whenever the check rules or the file layout change.</summary>
    public const int Version = 3;
    static readonly byte[] Magic = "STRIXLBL"u8.ToArray();
    static readonly ConcurrentDictionary<string, ImageLabels[]> Memory = new();

    /// <summary>
    /// Where the cache for these images lives: beside the first label folder, <c>labels/train2017.strix.cache</c>
    /// (a name of its own, so Ultralytics' <c>train2017.cache</c> for the same dataset is left alone).
    /// </summary>
    public static string PathFor(IReadOnlyList<string> imageFiles)
    {
        var labelDir = Path.GetDirectoryName(LabelChecker.LabelPathFor(imageFiles[0]))!;
        return labelDir.TrimEnd(Path.DirectorySeparatorChar) + ".strix.cache";
    }

    /// <summary>The cache key: changes when any image or label file is added, removed, resized or touched, or nc changes.</summary>
    public static string Key(IReadOnlyList<string> imageFiles, int nc, int[]? kptShape = null)
    {
        var sb = new StringBuilder();
        sb.Append("v").Append(Version).Append(";nc=").Append(nc);
        if (kptShape is not null) sb.Append(";kpt=").Append(string.Join(",", kptShape));
        sb.Append('\n');
        foreach (var img in imageFiles)
        {
            Append(sb, img);
            Append(sb, LabelChecker.LabelPathFor(img));
        }
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));

        static void Append(StringBuilder sb, string path)
        {
            var fi = new FileInfo(path);
            sb.Append(path).Append('|');
            if (fi.Exists) sb.Append(fi.Length).Append('|').Append(fi.LastWriteTimeUtc.Ticks);
            else sb.Append('-');
            sb.Append('\n');
        }
    }

    /// <summary>How the labels were obtained, for the summary line.</summary>
    public enum Source { Scanned, LoadedFromFile, LoadedFromMemory }

    /// <summary>
    /// Returns checked labels for <paramref name="imageFiles"/>: from the cache file or memory when the
    /// key matches, otherwise by running <see cref="LabelChecker.CheckAll"/> and saving the result.
    /// Problems with the cache itself are reported through <paramref name="warn"/>.
    /// </summary>
    public static (ImageLabels[] Labels, Source Source, string CacheFile) LoadOrCheck(
        IReadOnlyList<string> imageFiles, int nc, Action<string>? warn = null, int workers = -1, int[]? kptShape = null)
    {
        var cacheFile = PathFor(imageFiles);
        var key = Key(imageFiles, nc, kptShape);
        if (Memory.TryGetValue(key, out var mem)) return (mem, Source.LoadedFromMemory, cacheFile);

        if (File.Exists(cacheFile))
        {
            var (labels, why) = TryRead(cacheFile, key, imageFiles);
            if (labels is not null)
            {
                Memory[key] = labels;
                return (labels, Source.LoadedFromFile, cacheFile);
            }
            warn?.Invoke($"{cacheFile}: {why}; rebuilding the label cache");
        }

        var checkedLabels = LabelChecker.CheckAll(imageFiles, nc, workers, kptShape);
        Memory[key] = checkedLabels;
        try
        {
            var dir = Path.GetDirectoryName(cacheFile)!;
            if (!Directory.Exists(dir)) throw new DirectoryNotFoundException($"folder {dir} does not exist");
            if (!FolderAccess.IsWritable(dir)) throw new UnauthorizedAccessException("folder is read-only");
            Write(cacheFile, key, checkedLabels);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            warn?.Invoke($"cache folder {Path.GetDirectoryName(cacheFile)} is not writeable ({e.Message}); labels cached in memory only");
        }
        return (checkedLabels, Source.Scanned, cacheFile);
    }

    /// <summary>Forgets in-memory results (tests use this to force a file read or a rescan).</summary>
    public static void ClearMemory() => Memory.Clear();

    /// <summary>Serialises the check result atomically, ending with a SHA-256 of the payload.</summary>
    public static void Write(string cacheFile, string key, IReadOnlyList<ImageLabels> labels)
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Magic);
            w.Write(Version);
            w.Write(key);
            w.Write(labels.Count);
            foreach (var l in labels)
            {
                w.Write(l.ImageFile);
                w.Write((byte)l.Status);
                w.Write(l.LabelMissing);
                w.Write(l.Width);
                w.Write(l.Height);
                w.Write(l.Message ?? "");
                w.Write(l.Cls.Length);
                foreach (var c in l.Cls) w.Write(c);
                foreach (var b in l.Boxes) w.Write(b);
                w.Write(l.Segments is not null);
                foreach (var seg in l.Segments ?? Array.Empty<float[]>())
                {
                    w.Write(seg.Length);
                    foreach (var v in seg) w.Write(v);
                }
                w.Write(l.Keypoints is not null);
                foreach (var kp in l.Keypoints ?? Array.Empty<float[]>())
                {
                    w.Write(kp.Length);
                    foreach (var v in kp) w.Write(v);
                }
            }
        }
        var payload = ms.ToArray();
        var hash = SHA256.HashData(payload);
        AtomicFile.Write(cacheFile, s => { s.Write(payload); s.Write(hash); });
    }

    /// <summary>Reads a cache file; returns null and the reason when it is damaged, stale or from another version.</summary>
    public static (ImageLabels[]? Labels, string Reason) TryRead(string cacheFile, string key, IReadOnlyList<string> imageFiles)
    {
        try
        {
            var bytes = File.ReadAllBytes(cacheFile);
            if (bytes.Length < Magic.Length + 32 || !bytes.AsSpan(0, Magic.Length).SequenceEqual(Magic)) return (null, "not a Strix label cache");
            var payload = bytes.AsSpan(0, bytes.Length - 32);
            if (!SHA256.HashData(payload).AsSpan().SequenceEqual(bytes.AsSpan(bytes.Length - 32)))
                return (null, "cache file is damaged (checksum mismatch)");
            using var r = new BinaryReader(new MemoryStream(bytes, 0, bytes.Length - 32), Encoding.UTF8);
            r.ReadBytes(Magic.Length);
            int version = r.ReadInt32();
            if (version != Version) return (null, $"cache format version {version} is not {Version}");
            if (r.ReadString() != key) return (null, "images or labels changed since the cache was written");
            int n = r.ReadInt32();
            if (n != imageFiles.Count) return (null, "image count changed");
            var result = new ImageLabels[n];
            for (int i = 0; i < n; i++)
            {
                var img = r.ReadString();
                if (img != imageFiles[i]) return (null, "image list changed");
                var status = (ImageStatus)r.ReadByte();
                bool missing = r.ReadBoolean();
                int w = r.ReadInt32(), h = r.ReadInt32();
                var msg = r.ReadString();
                int k = r.ReadInt32();
                if (k < 0 || k > 1_000_000) return (null, "cache file is damaged (bad box count)");
                var cls = new float[k];
                var boxes = new float[4 * k];
                for (int j = 0; j < k; j++) cls[j] = r.ReadSingle();
                for (int j = 0; j < 4 * k; j++) boxes[j] = r.ReadSingle();
                float[][]? segments = null;
                if (r.ReadBoolean())
                {
                    segments = new float[k][];
                    for (int j = 0; j < k; j++)
                    {
                        int len = r.ReadInt32();
                        if (len < 6 || len % 2 != 0 || len > 10_000_000) return (null, "cache file is damaged (bad polygon size)");
                        segments[j] = new float[len];
                        for (int q = 0; q < len; q++) segments[j][q] = r.ReadSingle();
                    }
                }
                float[][]? keypoints = null;
                if (r.ReadBoolean())
                {
                    keypoints = new float[k][];
                    for (int j = 0; j < k; j++)
                    {
                        int len = r.ReadInt32();
                        if (len < 3 || len % 3 != 0 || len > 3_000) return (null, "cache file is damaged (bad keypoint count)");
                        keypoints[j] = new float[len];
                        for (int q = 0; q < len; q++) keypoints[j][q] = r.ReadSingle();
                    }
                }
                result[i] = new ImageLabels(img, LabelChecker.LabelPathFor(img), w, h, cls, boxes, status, msg.Length == 0 ? null : msg, missing, segments, keypoints);
            }
            return (result, "");
        }
        catch (Exception e) when (e is IOException or EndOfStreamException or UnauthorizedAccessException or FormatException or ArgumentException)
        {
            return (null, $"cache file cannot be read ({e.Message})");
        }
    }
}
