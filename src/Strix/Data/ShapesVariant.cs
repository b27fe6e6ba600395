using System.Globalization;
using System.Text;
using Strix.IO;

namespace Strix.Data;

/// <summary>
/// What the built-in datasets derived from the shapes-seg scenes share (<see cref="ShapesPose"/>, <see cref="ShapesObb"/>):
/// generation on first use into <see cref="ShapesDataset.DatasetsDir"/>, atomically, and the images/, labels/ and
/// data.yaml layout, each label row made from a shape's exact outline (stretched shapes for the oriented boxes).
/// </summary>
internal static class ShapesVariant
{
    /// <summary>The data.yaml under <paramref name="folderName"/>, generating the folder first with <paramref name="generate"/>.</summary>
    public static string Ensure(string folderName, string name, string? datasetsDir, Action<string>? log, Action<string> generate, string contents)
    {
        var final = Path.Combine(datasetsDir ?? ShapesDataset.DatasetsDir, folderName);
        var yaml = Path.Combine(final, "data.yaml");
        if (File.Exists(yaml)) return yaml;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        log?.Invoke($"Generating the built-in '{name}' dataset ({contents}) into {final} …");
        AtomicFolder.Ensure(final, "data.yaml", generate);
        log?.Invoke($"Generated '{name}' in {sw.Elapsed.TotalSeconds:0.0} s");
        return yaml;
    }

    /// <summary>
    /// Renders the scenes and writes one label row per shape: <paramref name="row"/>(class, normalised outline, image width,
    /// image height); data.yaml gets <paramref name="comment"/>, the splits, <paramref name="extraYaml"/> and the class names.
    /// </summary>
    public static void Generate(string dir, int trainScenes, int valScenes, int seed, Func<int, float[], int, int, string> row,
        string comment, IEnumerable<string> extraYaml, bool elongate = false)
    {
        foreach (var split in new[] { "train", "val" })
        {
            Directory.CreateDirectory(Path.Combine(dir, "images", split));
            Directory.CreateDirectory(Path.Combine(dir, "labels", split));
        }
        var jobs = Enumerable.Range(0, trainScenes).Select(i => ("train", 0, i)).Concat(Enumerable.Range(0, valScenes).Select(i => ("val", 1, i))).ToArray();
        Parallel.ForEach(jobs, job =>
        {
            var (split, splitId, i) = job;
            var (jpeg, polygons) = ShapesDataset.RenderScene(seed, splitId, i, 320, segments: true, elongate: elongate);
            var decoded = ImageIO.Decode(jpeg);
            int w = decoded.Width, h = decoded.Height;
            var name = $"{split}_{i:D5}";
            File.WriteAllBytes(Path.Combine(dir, "images", split, name + ".jpg"), jpeg);
            var sb = new StringBuilder();
            foreach (var line in polygons.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var v = line.Split(' ').Select(t => float.Parse(t, CultureInfo.InvariantCulture)).ToArray();
                sb.AppendLine(row((int)v[0], v[1..], w, h));
            }
            File.WriteAllText(Path.Combine(dir, "labels", split, name + ".txt"), sb.ToString());
        });
        var yaml = new StringBuilder();
        yaml.AppendLine(comment);
        yaml.AppendLine("path: .");
        yaml.AppendLine("train: images/train");
        yaml.AppendLine("val: images/val");
        foreach (var l in extraYaml) yaml.AppendLine(l);
        yaml.AppendLine("names:");
        for (int c = 0; c < ShapesDataset.ClassNames.Length; c++) yaml.AppendLine($"  {c}: {ShapesDataset.ClassNames[c]}");
        File.WriteAllText(Path.Combine(dir, "data.yaml"), yaml.ToString());
    }
}
