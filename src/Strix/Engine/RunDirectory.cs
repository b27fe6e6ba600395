using Strix.IO;
using System.Globalization;
using YamlDotNet.Serialization;

namespace Strix.Engine;

/// <summary>
/// Run folders as Ultralytics makes them: <c>{project}/{name}</c>, or <c>{name}2</c>, <c>{name}3</c> …
/// when it exists (unless <c>exist_ok</c>), with <c>weights/</c> inside and <c>args.yaml</c> listing every
/// resolved argument.
/// </summary>
public static class RunDirectory
{
    /// <summary>Creates and returns the run folder (default project <c>runs/detect</c>, name <c>train</c>).</summary>
    /// <param name="project">Parent folder (Ultralytics' <c>project</c>).</param>
    /// <param name="name">Run name; a number is appended when it is taken.</param>
    /// <param name="existOk">Reuse <c>{project}/{name}</c> when it exists instead of numbering a new one.</param>
    /// <param name="withWeights">Also create <c>weights/</c> (training runs).</param>
    public static string Create(string? project = null, string? name = null, bool existOk = false, bool withWeights = true)
    {
        var root = Path.GetFullPath(string.IsNullOrWhiteSpace(project) ? Path.Combine("runs", "detect") : project);
        var stem = string.IsNullOrWhiteSpace(name) ? "train" : name;
        var dir = Path.Combine(root, stem);
        if (!existOk)
            for (int n = 2; Directory.Exists(dir) || File.Exists(dir); n++)
                dir = Path.Combine(root, stem + n.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(withWeights ? Path.Combine(dir, "weights") : dir);
        return dir;
    }

    /// <summary>Writes <c>args.yaml</c> (atomically) with the arguments in the order given.</summary>
    public static void WriteArgs(string runDir, IEnumerable<KeyValuePair<string, object?>> args)
    {
        var ordered = new Dictionary<string, object?>();
        foreach (var (k, v) in args) ordered[k] = v;
        var yaml = new SerializerBuilder().Build().Serialize(ordered);
        AtomicFile.WriteAllText(Path.Combine(runDir, "args.yaml"), yaml);
    }

    /// <summary>Reads <c>args.yaml</c> back as key → string value (null for empty).</summary>
    public static Dictionary<string, string?> ReadArgs(string path)
    {
        var d = new DeserializerBuilder().Build().Deserialize<Dictionary<string, object?>>(File.ReadAllText(path))
            ?? new Dictionary<string, object?>();
        return d.ToDictionary(kv => kv.Key, kv => kv.Value?.ToString());
    }
}
