namespace Strix.Data;

/// <summary>One labelled image of a classification split: the file and its class index.</summary>
public readonly record struct ClassifiedImage(string File, int Class);

/// <summary>
/// A classification dataset in Ultralytics' folder layout: <c>root/train/&lt;class&gt;/*.jpg</c>,
/// <c>root/val/&lt;class&gt;/…</c> and optionally <c>root/test/…</c>. Class names are the train split's folder
/// names in ordinal order (Ultralytics sorts them too), so index i means the same class in every split.
/// Each image's header is read on load: a file that is not a decodable image, a format this build cannot
/// decode, a file outside any class folder, or a class folder the train split lacks is named in a warning
/// and skipped; the rest goes on.
/// </summary>
public sealed class ClassificationDataset
{
    ClassificationDataset(string root, string split, string dir, IReadOnlyList<string> names, IReadOnlyList<ClassifiedImage> images)
    {
        Root = root; Split = split; Directory = dir; Names = names; Images = images;
    }

    /// <summary>The dataset folder (holding train/, val/, test/).</summary>
    public string Root { get; }
    /// <summary>The split asked for (train, val, test).</summary>
    public string Split { get; }
    /// <summary>The folder read for it (val falls back to test/ when there is no val/, as Ultralytics does).</summary>
    public string Directory { get; }
    public IReadOnlyList<string> Names { get; }
    public IReadOnlyList<ClassifiedImage> Images { get; }
    public int Count => Images.Count;

    /// <summary>Images per class, in class order.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[Names.Count];
        foreach (var im in Images) counts[im.Class]++;
        return counts;
    }

    /// <summary>
    /// The dataset folder a <c>data=</c> argument names: a built-in name (<c>shapes-cls</c>) is generated on
    /// first use; anything else must be a folder with a <c>train/</c> split.
    /// </summary>
    public static string ResolveRoot(string data, Action<string>? log = null)
    {
        if (string.IsNullOrWhiteSpace(data)) throw new ArgumentException("data: no dataset given (data=path/to/folder with train/ and val/ class folders, or data=shapes-cls)");
        if (!System.IO.Directory.Exists(data) && ShapesClassification.IsBuiltInName(data)) return ShapesClassification.Ensure(log: log);
        if (File.Exists(data))
            throw new ArgumentException($"data={data}: classification reads a folder (root/train/<class>/*.jpg, root/val/<class>/…), not a file");
        if (!System.IO.Directory.Exists(data)) throw new DirectoryNotFoundException($"data={data}: dataset folder not found");
        if (!System.IO.Directory.Exists(Path.Combine(data, "train")))
            throw new InvalidDataException($"{Path.GetFullPath(data)}: no train/ folder (a classification dataset is root/train/<class>/*.jpg with root/val/<class>/…)");
        return Path.GetFullPath(data);
    }

    /// <summary>The class names: the train split's sub-folders, ordinal order.</summary>
    public static string[] ReadNames(string root)
    {
        var train = Path.Combine(root, "train");
        if (!System.IO.Directory.Exists(train)) throw new InvalidDataException($"{root}: no train/ folder");
        var names = System.IO.Directory.GetDirectories(train).Select(Path.GetFileName).OfType<string>()
            .Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();
        if (names.Length == 0) throw new InvalidDataException($"{train}: no class folders (expected train/<class>/*.jpg)");
        return names;
    }

    /// <summary>Lists and checks one split; <paramref name="warn"/> receives one line per skipped file or folder.</summary>
    public static ClassificationDataset Load(string root, string split, Action<string>? warn = null)
    {
        var names = ReadNames(root);
        var dir = Path.Combine(root, split);
        if (!System.IO.Directory.Exists(dir) && split == "val" && System.IO.Directory.Exists(Path.Combine(root, "test")))
        {
            warn?.Invoke($"{root}: no val/ folder, validating on test/");
            dir = Path.Combine(root, "test");
        }
        if (!System.IO.Directory.Exists(dir)) throw new DirectoryNotFoundException($"{root}: no {split}/ folder");
        var index = names.Select((n, i) => (n, i)).ToDictionary(t => t.n, t => t.i, StringComparer.Ordinal);
        foreach (var stray in System.IO.Directory.GetFiles(dir).Where(f => ImageIO.IsImageFile(f) || ImageIO.IsUndecodableImageFile(f)).Order(StringComparer.Ordinal))
            warn?.Invoke($"{stray}: image outside any class folder, skipped (classification images live in {split}/<class>/)");
        var candidates = new List<ClassifiedImage>();
        foreach (var classDir in System.IO.Directory.GetDirectories(dir).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(classDir);
            if (name.StartsWith('.')) continue;
            if (!index.TryGetValue(name, out int c))
            {
                warn?.Invoke($"{classDir}: class '{name}' is not in train/ ({names.Length} classes there), skipped");
                continue;
            }
            foreach (var f in System.IO.Directory.GetFiles(classDir, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                if (ImageIO.IsImageFile(f)) candidates.Add(new ClassifiedImage(f, c));
                else if (ImageIO.IsUndecodableImageFile(f))
                    warn?.Invoke($"{f}: {Path.GetExtension(f)} images cannot be decoded by this build, skipped (convert to .jpg or .png)");
            }
        }
        // Header checks in parallel; warnings in file order.
        var problems = new string?[candidates.Count];
        Parallel.For(0, candidates.Count, i =>
        {
            try { ImageIO.ReadSize(candidates[i].File); }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                problems[i] = e.Message.StartsWith(candidates[i].File, StringComparison.Ordinal) ? e.Message : $"{candidates[i].File}: {e.Message}";
            }
        });
        var images = new List<ClassifiedImage>(candidates.Count);
        for (int i = 0; i < candidates.Count; i++)
        {
            if (problems[i] is { } p) warn?.Invoke($"{p}, skipped");
            else images.Add(candidates[i]);
        }
        if (images.Count == 0) throw new InvalidDataException($"{dir}: no readable images in its class folders");
        return new ClassificationDataset(root, split, dir, names, images);
    }
}
