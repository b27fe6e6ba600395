using System.Globalization;
using System.Text;
using Strix.IO;

namespace Strix.Data;

/// <summary>
/// The built-in <c>data=shapes-obb</c> dataset: the <c>shapes-seg</c> scenes, each shape labelled with its oriented box
/// in Ultralytics' OBB format (<c>class x1 y1 x2 y2 x3 y3 x4 y4</c>, normalised): the smallest-area rectangle around its
/// exact outline, so a square or a cross lying at 30° gets a box at 30° (a circle's has no meaningful angle, and
/// ProbIoU, the OBB measure, does not depend on it for a square box). Generated on first use, atomically.
/// </summary>
public static class ShapesObb
{
    public const int FormatVersion = 1;
    public const int TrainScenes = 1000, ValScenes = 200;

    public static bool IsBuiltInName(string data) => data.Trim().ToLowerInvariant() is "shapes-obb" or "shapes-obb.yaml";

    public static string FolderName => $"shapes-obb-v{FormatVersion}";

    /// <summary>The data.yaml of the generated dataset, generating it first if needed.</summary>
    public static string Ensure(string? datasetsDir = null, Action<string>? log = null)
    {
        var final = Path.Combine(datasetsDir ?? ShapesDataset.DatasetsDir, FolderName);
        var yaml = Path.Combine(final, "data.yaml");
        if (File.Exists(yaml)) return yaml;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        log?.Invoke($"Generating the built-in 'shapes-obb' dataset ({TrainScenes} train + {ValScenes} val images) into {final} …");
        AtomicFolder.Ensure(final, "data.yaml", tmp => Generate(tmp));
        log?.Invoke($"Generated 'shapes-obb' in {sw.Elapsed.TotalSeconds:0.0} s");
        return yaml;
    }

    /// <summary>Writes images/, labels/ (OBB rows) and data.yaml into <paramref name="dir"/>.</summary>
    public static void Generate(string dir, int trainScenes = TrainScenes, int valScenes = ValScenes, int seed = 0)
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
            var (jpeg, polygons) = ShapesDataset.RenderScene(seed, splitId, i, 320, segments: true);
            var size = ImageIO.Decode(jpeg);
            var name = $"{split}_{i:D5}";
            File.WriteAllBytes(Path.Combine(dir, "images", split, name + ".jpg"), jpeg);
            var sb = new StringBuilder();
            foreach (var line in polygons.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var v = line.Split(' ').Select(t => float.Parse(t, CultureInfo.InvariantCulture)).ToArray();
                sb.AppendLine(Row((int)v[0], v[1..], size.Width, size.Height));
            }
            File.WriteAllText(Path.Combine(dir, "labels", split, name + ".txt"), sb.ToString());
        });
        var yaml = new StringBuilder();
        yaml.AppendLine($"# Strix built-in synthetic dataset 'shapes-obb' v{FormatVersion} (seed {seed}): oriented boxes of the shapes-seg scenes; regenerate by deleting this folder.");
        yaml.AppendLine("path: .");
        yaml.AppendLine("train: images/train");
        yaml.AppendLine("val: images/val");
        yaml.AppendLine("names:");
        for (int c = 0; c < ShapesDataset.ClassNames.Length; c++) yaml.AppendLine($"  {c}: {ShapesDataset.ClassNames[c]}");
        File.WriteAllText(Path.Combine(dir, "data.yaml"), yaml.ToString());
    }

    /// <summary>
    /// One OBB row from a normalised outline on a <paramref name="w"/>×<paramref name="h"/> image: the rectangle is found in
    /// pixels (a rotated rectangle does not stay one under a non-uniform scale), its corners written normalised.
    /// </summary>
    internal static string Row(int cls, float[] outline, int w, int h)
    {
        var px = new float[outline.Length];
        for (int i = 0; i < px.Length; i += 2) { px[i] = outline[i] * w; px[i + 1] = outline[i + 1] * h; }
        var (cx, cy, bw, bh, a) = Polygons.MinAreaRect(px);
        var corners = Polygons.RectCorners(cx, cy, bw, bh, a);
        var sb = new StringBuilder(cls.ToString(CultureInfo.InvariantCulture));
        for (int k = 0; k < 8; k += 2)
            sb.Append(string.Create(CultureInfo.InvariantCulture, $" {Math.Clamp(corners[k] / w, 0, 1):0.######} {Math.Clamp(corners[k + 1] / h, 0, 1):0.######}"));
        return sb.ToString();
    }
}
