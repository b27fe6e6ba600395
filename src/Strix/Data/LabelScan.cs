namespace Strix.Data;

/// <summary>
/// The checked labels of one split and their counts, as Ultralytics prints them before training:
/// images with labels, backgrounds (no or empty label file), corrupt (skipped), instances.
/// </summary>
public sealed class LabelScan
{
    LabelScan(string prefix, ImageLabels[] all, LabelCache.Source source, string cacheFile, int nc, List<string> warnings, int orphans)
    {
        Prefix = prefix; All = all; Source = source; CacheFile = cacheFile; Warnings = warnings; OrphanLabelFiles = orphans;
        Valid = all.Where(l => l.Status != ImageStatus.Corrupt).ToArray();
        Labelled = all.Count(l => l.Status == ImageStatus.Labelled);
        Missing = all.Count(l => l.Status == ImageStatus.Background && l.LabelMissing);
        Empty = all.Count(l => l.Status == ImageStatus.Background && !l.LabelMissing);
        Corrupt = all.Count(l => l.Status == ImageStatus.Corrupt);
        ClassCounts = new int[nc];
        ImageCounts = new int[nc];
        foreach (var l in Valid)
        {
            foreach (var c in l.Cls) ClassCounts[(int)c]++;
            foreach (var c in l.Cls.Distinct()) ImageCounts[(int)c]++;
        }
        Instances = ClassCounts.Sum();
    }

    /// <summary>Log prefix, usually the split name (<c>train: </c>).</summary>
    public string Prefix { get; }
    /// <summary>Every image checked, corrupt ones included, in input order.</summary>
    public IReadOnlyList<ImageLabels> All { get; }
    /// <summary>The usable images (labelled and backgrounds), in input order.</summary>
    public IReadOnlyList<ImageLabels> Valid { get; }
    public int Labelled { get; }
    /// <summary>Images without a label file.</summary>
    public int Missing { get; }
    /// <summary>Images whose label file holds no rows.</summary>
    public int Empty { get; }
    public int Backgrounds => Missing + Empty;
    public int Corrupt { get; }
    public int Instances { get; }
    /// <summary>Boxes per class.</summary>
    public int[] ClassCounts { get; }
    /// <summary>Images containing each class.</summary>
    public int[] ImageCounts { get; }
    /// <summary>Label files in the scanned label folders that no image refers to (reported, not used).</summary>
    public int OrphanLabelFiles { get; }
    public LabelCache.Source Source { get; }
    public string CacheFile { get; }
    /// <summary>Every warning raised (one per bad file, plus cache and dataset-level notes).</summary>
    public IReadOnlyList<string> Warnings { get; }

    /// <summary>One line like Ultralytics' scan summary: <c>train: 126 images with labels, 2 backgrounds, 0 corrupt, 929 instances</c>.</summary>
    public string Summary =>
        $"{Prefix}{Labelled} images with labels, {Backgrounds} backgrounds, {Corrupt} corrupt, {Instances} instances" +
        (Source switch { LabelCache.Source.LoadedFromFile => $" (cache {CacheFile})", LabelCache.Source.LoadedFromMemory => " (cached)", _ => "" });

    /// <summary>
    /// Checks (or loads from cache) the labels of <paramref name="imageFiles"/>; each warning goes to
    /// <paramref name="warn"/> once, as it is found.
    /// </summary>
    public static LabelScan Run(IReadOnlyList<string> imageFiles, int nc, string prefix = "", Action<string>? warn = null, int workers = -1,
        int[]? kptShape = null)
    {
        if (imageFiles.Count == 0) throw new InvalidDataException($"{prefix}no images to check");
        var warnings = new List<string>();
        void Warn(string m) { warnings.Add(m); warn?.Invoke(m); }

        var (labels, source, cacheFile) = LabelCache.LoadOrCheck(imageFiles, nc, Warn, workers, kptShape);
        foreach (var l in labels) if (l.Message is not null) Warn(l.Message);

        // Label files with no image: usually a sign of a half-copied dataset.
        var expected = new HashSet<string>(labels.Select(l => l.LabelFile), StringComparer.Ordinal);
        int orphans = 0;
        foreach (var dir in expected.Select(Path.GetDirectoryName).Distinct())
        {
            if (dir is null || !Directory.Exists(dir)) continue;
            foreach (var f in Directory.EnumerateFiles(dir, "*.txt"))
                if (!expected.Contains(f) && !Path.GetFileName(f).Equals("classes.txt", StringComparison.OrdinalIgnoreCase)) orphans++;
        }

        var scan = new LabelScan(prefix, labels, source, cacheFile, nc, warnings, orphans);
        if (scan.Labelled == 0)
            Warn($"{prefix}no labels found (looked for {LabelChecker.LabelPathFor(imageFiles[0])} and the like: images/ → labels/, extension → .txt); every image is a background");
        if (scan.Valid.Count == 0)
            throw new InvalidDataException($"{prefix}all {imageFiles.Count} images are corrupt; first reason: {labels[0].Message}");
        return scan;
    }
}
