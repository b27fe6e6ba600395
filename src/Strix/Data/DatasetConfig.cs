using YamlDotNet.RepresentationModel;

namespace Strix.Data;

/// <summary>
/// A detection dataset description in Ultralytics' <c>data.yaml</c> schema:
/// <c>path</c> (dataset root), <c>train</c>, <c>val</c>, optional <c>test</c> (each a folder, a list of
/// folders, or a <c>.txt</c> file listing image paths), <c>names</c> (list or index→name map) and an
/// optional <c>nc</c> that must agree with <c>names</c>.
/// </summary>
/// <remarks>
/// A relative <c>path</c> is looked up beside the yaml file first, then in the working directory, so a
/// dataset and its yaml can be moved together. Errors name the key and every path that was tried.
/// </remarks>
public sealed class DatasetConfig
{
    DatasetConfig(string? yamlFile, string root, string[] names,
        IReadOnlyList<string> trainSources, IReadOnlyList<string> valSources, IReadOnlyList<string>? testSources,
        IReadOnlyList<string> train, IReadOnlyList<string> val, IReadOnlyList<string>? test)
    {
        YamlFile = yamlFile; Path = root; Names = names;
        TrainSources = trainSources; ValSources = valSources; TestSources = testSources;
        Train = train; Val = val; Test = test;
    }

    /// <summary>Pose: <c>kpt_shape</c> [keypoints, 2 or 3] from the yaml; null for other datasets.</summary>
    public int[]? KptShape { get; init; }
    /// <summary>Pose: <c>flip_idx</c>, for each keypoint the one it becomes in a left-right flip; null when not given.</summary>
    public int[]? FlipIdx { get; init; }

    /// <summary>The yaml file this was read from (null for a config built in code).</summary>
    public string? YamlFile { get; }
    /// <summary>The dataset root every relative split entry resolves against.</summary>
    public string Path { get; }
    /// <summary>Class names, index = class id.</summary>
    public string[] Names { get; }
    /// <summary>Number of classes.</summary>
    public int Nc => Names.Length;
    /// <summary>Resolved entries of <c>train</c> (folders or .txt lists) as written in the yaml.</summary>
    public IReadOnlyList<string> TrainSources { get; }
    public IReadOnlyList<string> ValSources { get; }
    public IReadOnlyList<string>? TestSources { get; }
    /// <summary>Absolute image paths of the train split, sorted.</summary>
    public IReadOnlyList<string> Train { get; }
    /// <summary>Absolute image paths of the val split, sorted.</summary>
    public IReadOnlyList<string> Val { get; }
    /// <summary>Absolute image paths of the test split, or null when the yaml has no <c>test</c>.</summary>
    public IReadOnlyList<string>? Test { get; }
    /// <summary>What loading skipped and why (image files in formats Strix cannot decode); <see cref="Resolve"/> prints them.</summary>
    public IReadOnlyList<string> Warnings { get; private init; } = Array.Empty<string>();

    /// <summary>The image list of a split by name (<c>train</c>, <c>val</c>, <c>test</c>).</summary>
    public IReadOnlyList<string> Split(string split) => split.ToLowerInvariant() switch
    {
        "train" => Train,
        "val" or "valid" or "validation" => Val,
        "test" => Test ?? throw new ArgumentException($"{YamlFile ?? "dataset"}: has no 'test' split"),
        _ => throw new ArgumentException($"unknown split '{split}' (expected train, val or test)"),
    };

    /// <summary>
    /// Resolves the <c>data=</c> argument: a built-in dataset name (<c>shapes</c>) is generated on first
    /// use into the datasets folder; anything else is a yaml path (as given, relative to the working
    /// directory).
    /// </summary>
    public static DatasetConfig Resolve(string data, Action<string>? log = null)
    {
        if (string.IsNullOrWhiteSpace(data)) throw new ArgumentException("data: no dataset given (data=path/to/data.yaml, data=shapes or data=shapes-seg)");
        var config = File.Exists(data) ? Load(data)
            : ShapesDataset.IsBuiltInName(data) ? Load(ShapesDataset.Ensure(options: ShapesDataset.OptionsFor(data), log: log))
            : ShapesPose.IsBuiltInName(data) ? Load(ShapesPose.Ensure(log: log))
            : ShapesObb.IsBuiltInName(data) ? Load(ShapesObb.Ensure(log: log))
            : Load(data);
        foreach (var w in config.Warnings) log?.Invoke($"WARNING ⚠️ {w}");
        return config;
    }

    /// <summary>Reads and validates a data.yaml file; lists the images of every split.</summary>
    /// <exception cref="FileNotFoundException">The yaml file is missing.</exception>
    /// <exception cref="InvalidDataException">A key is missing or malformed, or a path does not exist; the message names both.</exception>
    public static DatasetConfig Load(string yamlPath) => Load(yamlPath, Directory.GetCurrentDirectory());

    /// <summary><see cref="Load(string)"/> with an explicit working directory for the <c>path</c> fallback.</summary>
    internal static DatasetConfig Load(string yamlPath, string workingDirectory)
    {
        var full = System.IO.Path.GetFullPath(yamlPath, workingDirectory);
        if (!File.Exists(full)) throw new FileNotFoundException($"data: dataset yaml '{yamlPath}' not found (looked at {full})", full);
        YamlMappingNode map;
        try
        {
            var stream = new YamlStream();
            using (var reader = new StreamReader(full)) stream.Load(reader);
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode m)
                throw new InvalidDataException($"{full}: expected a mapping with keys path, train, val, names");
            map = m;
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidDataException($"{full} line {e.Start.Line}: invalid YAML: {e.Message}", e);
        }
        catch (InvalidOperationException e) // YamlDotNet's scanner fails this way on some unterminated [ … or { … (no position)
        {
            throw new InvalidDataException($"{full}: invalid YAML (an unterminated [ … ] or {{ … }}?): {e.Message}", e);
        }

        var yamlDir = System.IO.Path.GetDirectoryName(full)!;
        string root = ResolveRoot(full, yamlDir, map, workingDirectory);
        var names = ParseNames(full, map);

        var trainSources = ResolveSplit(full, root, map, "train", required: true)!;
        var valSources = ResolveSplit(full, root, map, "val", required: true)!;
        var testSources = ResolveSplit(full, root, map, "test", required: false);

        var warnings = new List<string>();
        var train = ListImages(full, "train", trainSources, warnings);
        var val = ListImages(full, "val", valSources, warnings);
        var test = testSources is null ? null : ListImages(full, "test", testSources, warnings);
        var (kptShape, flipIdx) = ParseKeypoints(full, map);
        return new DatasetConfig(full, root, names, trainSources, valSources, testSources, train, val, test)
        {
            Warnings = warnings.Distinct().ToList(), KptShape = kptShape, FlipIdx = flipIdx,
        };
    }

    /// <summary>A pose dataset's <c>kpt_shape: [K, 2 or 3]</c> and <c>flip_idx</c> (a permutation of 0..K−1), checked; (null, null) when absent.</summary>
    static (int[]? KptShape, int[]? FlipIdx) ParseKeypoints(string yaml, YamlMappingNode map)
    {
        int[]? Ints(string key)
        {
            var node = Get(map, key);
            if (IsNull(node)) return null;
            if (node is not YamlSequenceNode seq)
                throw new InvalidDataException($"{yaml} line {node!.Start.Line}: '{key}' must be a list of whole numbers");
            return seq.Children.Select(c => c is YamlScalarNode s && int.TryParse(s.Value, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v
                : throw new InvalidDataException($"{yaml} line {c.Start.Line}: '{key}' holds '{(c as YamlScalarNode)?.Value}', not a whole number")).ToArray();
        }
        var shape = Ints("kpt_shape");
        var flip = Ints("flip_idx");
        if (shape is null)
        {
            if (flip is not null) throw new InvalidDataException($"{yaml}: flip_idx is given without kpt_shape");
            return (null, null);
        }
        if (shape is not [>= 1 and <= 1000, 2 or 3])
            throw new InvalidDataException($"{yaml}: kpt_shape [{string.Join(", ", shape)}] must be [keypoints, 2 or 3] with 1 to 1000 keypoints");
        if (flip is not null && (flip.Length != shape[0] || flip.Order().Where((v, i) => v != i).Any()))
            throw new InvalidDataException($"{yaml}: flip_idx [{string.Join(", ", flip)}] must list each of the {shape[0]} keypoints 0..{shape[0] - 1} once");
        return (shape, flip);
    }

    static YamlNode? Get(YamlMappingNode map, string key)
    {
        foreach (var kv in map.Children)
            if (kv.Key is YamlScalarNode s && s.Value == key) return kv.Value;
        return null;
    }

    static bool IsNull(YamlNode? n) =>
        n is null || (n is YamlScalarNode s && (s.Value is null or "" or "~" or "null" or "None" && s.Style == YamlDotNet.Core.ScalarStyle.Plain));

    static string ResolveRoot(string yaml, string yamlDir, YamlMappingNode map, string cwd)
    {
        var node = Get(map, "path");
        if (IsNull(node)) return yamlDir;
        if (node is not YamlScalarNode s)
            throw new InvalidDataException($"{yaml} line {node!.Start.Line}: 'path' must be a folder path");
        var p = ExpandHome(s.Value!);
        if (System.IO.Path.IsPathRooted(p))
        {
            if (!Directory.Exists(p)) throw new DirectoryNotFoundException($"{yaml}: 'path: {s.Value}' not found (tried {p})");
            return System.IO.Path.GetFullPath(p);
        }
        var candidates = new[] { System.IO.Path.Combine(yamlDir, p), System.IO.Path.Combine(cwd, p) }
            .Select(System.IO.Path.GetFullPath).Distinct().ToArray();
        foreach (var c in candidates) if (Directory.Exists(c)) return c;
        throw new DirectoryNotFoundException($"{yaml}: 'path: {s.Value}' not found (tried {string.Join(", ", candidates)})");
    }

    static string ExpandHome(string p) =>
        p.StartsWith("~/") ? System.IO.Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), p[2..]) : p;

    static string[] ParseNames(string yaml, YamlMappingNode map)
    {
        var node = Get(map, "names");
        if (IsNull(node)) throw new InvalidDataException($"{yaml}: missing key 'names' (a list of class names, or a map 0: name, 1: name, …)");
        string[] names;
        if (node is YamlSequenceNode seq)
        {
            names = seq.Children.Select((c, i) => c is YamlScalarNode s && !string.IsNullOrEmpty(s.Value) ? s.Value!
                : throw new InvalidDataException($"{yaml} line {c.Start.Line}: names[{i}] is not a class name")).ToArray();
        }
        else if (node is YamlMappingNode m)
        {
            var dict = new SortedDictionary<int, string>();
            foreach (var kv in m.Children)
            {
                if (kv.Key is not YamlScalarNode k || !int.TryParse(k.Value, out int id) || id < 0)
                    throw new InvalidDataException($"{yaml} line {kv.Key.Start.Line}: names key '{(kv.Key as YamlScalarNode)?.Value}' is not a class index (0, 1, 2, …)");
                if (kv.Value is not YamlScalarNode v || string.IsNullOrEmpty(v.Value))
                    throw new InvalidDataException($"{yaml} line {kv.Value.Start.Line}: names[{id}] is not a class name");
                if (!dict.TryAdd(id, v.Value!)) throw new InvalidDataException($"{yaml} line {kv.Key.Start.Line}: class index {id} appears twice in names");
            }
            names = new string[dict.Count];
            int expect = 0;
            foreach (var (id, name) in dict)
            {
                if (id != expect) throw new InvalidDataException($"{yaml}: names must cover class indices 0..{dict.Count - 1} without gaps; index {expect} is missing");
                names[expect++] = name;
            }
        }
        else throw new InvalidDataException($"{yaml} line {node!.Start.Line}: 'names' must be a list or a map of index: name");
        if (names.Length == 0) throw new InvalidDataException($"{yaml}: 'names' is empty; a detection dataset needs at least one class");

        var ncNode = Get(map, "nc");
        if (!IsNull(ncNode))
        {
            if (ncNode is not YamlScalarNode ns || !int.TryParse(ns.Value, out int nc))
                throw new InvalidDataException($"{yaml} line {ncNode!.Start.Line}: 'nc' must be an integer");
            if (nc != names.Length)
                throw new InvalidDataException($"{yaml}: 'nc: {nc}' does not match the {names.Length} class names in 'names'");
        }
        return names;
    }

    static List<string>? ResolveSplit(string yaml, string root, YamlMappingNode map, string key, bool required)
    {
        var node = Get(map, key);
        if (IsNull(node))
        {
            if (required) throw new InvalidDataException($"{yaml}: missing key '{key}' (a folder of images, a list of folders, or a .txt file of image paths, relative to {root})");
            return null;
        }
        var entries = node switch
        {
            YamlScalarNode s => new List<(string, long)> { (s.Value!, s.Start.Line) },
            YamlSequenceNode seq => seq.Children.Select(c => c is YamlScalarNode cs && !string.IsNullOrEmpty(cs.Value) ? (cs.Value!, c.Start.Line)
                : throw new InvalidDataException($"{yaml} line {c.Start.Line}: '{key}' entries must be paths")).ToList(),
            _ => throw new InvalidDataException($"{yaml} line {node!.Start.Line}: '{key}' must be a path or a list of paths"),
        };
        var result = new List<string>();
        foreach (var (entry, line) in entries)
        {
            var p = ExpandHome(entry);
            var tried = new List<string>();
            string? found = null;
            if (System.IO.Path.IsPathRooted(p)) tried.Add(System.IO.Path.GetFullPath(p));
            else
            {
                tried.Add(System.IO.Path.GetFullPath(System.IO.Path.Combine(root, p)));
                // Ultralytics also accepts '../x' written relative to the yaml's folder when path: is set.
                if (p.StartsWith("../")) tried.Add(System.IO.Path.GetFullPath(System.IO.Path.Combine(root, p[3..])));
            }
            foreach (var t in tried) if (Directory.Exists(t) || File.Exists(t)) { found = t; break; }
            if (found is null)
                throw new DirectoryNotFoundException($"{yaml} line {line}: '{key}: {entry}' not found (tried {string.Join(", ", tried)})");
            result.Add(found);
        }
        return result;
    }

    /// <summary>Lists images under folders (recursively) and in .txt lists; sorted, de-duplicated.</summary>
    internal static IReadOnlyList<string> ListImages(string yaml, string key, IReadOnlyList<string> sources, List<string>? warnings = null)
    {
        var files = new List<string>();
        int undecodable = 0;
        string? example = null;
        foreach (var src in sources)
        {
            if (Directory.Exists(src))
            {
                foreach (var f in Directory.EnumerateFiles(src, "*", SearchOption.AllDirectories))
                {
                    if (ImageIO.IsImageFile(f)) files.Add(f);
                    else if (ImageIO.IsUndecodableImageFile(f)) { undecodable++; example ??= f; }
                }
            }
            else if (src.EndsWith(".txt", StringComparison.OrdinalIgnoreCase))
            {
                var dir = System.IO.Path.GetDirectoryName(src)!;
                int lineNo = 0;
                foreach (var raw in File.ReadLines(src))
                {
                    lineNo++;
                    var line = raw.Trim();
                    if (line.Length == 0 || line.StartsWith('#')) continue;
                    var p = System.IO.Path.GetFullPath(System.IO.Path.IsPathRooted(line) ? line : System.IO.Path.Combine(dir, line));
                    if (!ImageIO.IsImageFile(p))
                        throw new InvalidDataException($"{src} line {lineNo}: '{line}' is not an image path ({string.Join(", ", ImageIO.ImageExtensions)})");
                    files.Add(p);
                }
            }
            else if (ImageIO.IsImageFile(src)) files.Add(src);
            else throw new InvalidDataException($"{yaml}: '{key}' entry {src} is neither a folder, a .txt list nor an image");
        }
        var list = files.Select(System.IO.Path.GetFullPath).Distinct().OrderBy(f => f, StringComparer.Ordinal).ToList();
        if (list.Count == 0)
            throw new InvalidDataException($"{yaml}: '{key}' has no images (looked in {string.Join(", ", sources)}; extensions {string.Join(", ", ImageIO.ImageExtensions)})"
                + (undecodable > 0 ? $"; {undecodable} image(s) in formats Strix cannot decode, e.g. {example}: convert them to PNG or JPEG" : ""));
        if (undecodable > 0)
            warnings?.Add($"{key}: skipping {undecodable} image(s) in formats Strix cannot decode ({string.Join(", ", ImageIO.UndecodableImageExtensions)}), e.g. {example}: convert them to PNG or JPEG");
        return list;
    }

    /// <summary>A config built in code, e.g. for tests or generated datasets.</summary>
    public static DatasetConfig FromLists(string root, string[] names, IReadOnlyList<string> train, IReadOnlyList<string> val, IReadOnlyList<string>? test = null) =>
        new(null, root, names, train, val, test, train, val, test);
}
