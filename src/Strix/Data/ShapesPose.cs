using System.Globalization;
using System.Text;
using Strix.IO;

namespace Strix.Data;

/// <summary>
/// The built-in <c>data=shapes-pose</c> dataset: the <c>shapes-seg</c> scenes (shapes that do not overlap), each shape
/// labelled with its box and five keypoints read off its exact outline: the centre (mean of the outline's points) and
/// where the outline lies farthest from it straight up, right, down and left. Those points move continuously as a shape
/// turns, so every label is learnable, and a left-right flip swaps "right" and "left" (<c>flip_idx [0, 1, 4, 3, 2]</c>).
/// Generated on first use into <see cref="ShapesDataset.DatasetsDir"/>, atomically.
/// </summary>
public static class ShapesPose
{
    public const int FormatVersion = 1;
    /// <summary>Keypoints per shape: centre, top, right, bottom, left.</summary>
    public static readonly string[] KeypointNames = { "centre", "top", "right", "bottom", "left" };
    public static readonly int[] FlipIdx = { 0, 1, 4, 3, 2 };
    public const int TrainScenes = 1000, ValScenes = 200;

    public static bool IsBuiltInName(string data) => data.Trim().ToLowerInvariant() is "shapes-pose" or "shapes-pose.yaml";

    public static string FolderName => $"shapes-pose-v{FormatVersion}";

    /// <summary>The data.yaml of the generated dataset, generating it first if needed.</summary>
    public static string Ensure(string? datasetsDir = null, Action<string>? log = null)
    {
        var final = Path.Combine(datasetsDir ?? ShapesDataset.DatasetsDir, FolderName);
        var yaml = Path.Combine(final, "data.yaml");
        if (File.Exists(yaml)) return yaml;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        log?.Invoke($"Generating the built-in 'shapes-pose' dataset ({TrainScenes} train + {ValScenes} val images) into {final} …");
        AtomicFolder.Ensure(final, "data.yaml", tmp => Generate(tmp));
        log?.Invoke($"Generated 'shapes-pose' in {sw.Elapsed.TotalSeconds:0.0} s");
        return yaml;
    }

    /// <summary>Writes images/, labels/ (pose rows) and data.yaml (kpt_shape [5, 3], flip_idx) into <paramref name="dir"/>.</summary>
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
            var name = $"{split}_{i:D5}";
            File.WriteAllBytes(Path.Combine(dir, "images", split, name + ".jpg"), jpeg);
            var sb = new StringBuilder();
            foreach (var line in polygons.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var v = line.Split(' ').Select(t => float.Parse(t, CultureInfo.InvariantCulture)).ToArray();
                sb.AppendLine(Row((int)v[0], v[1..]));
            }
            File.WriteAllText(Path.Combine(dir, "labels", split, name + ".txt"), sb.ToString());
        });
        var yaml = new StringBuilder();
        yaml.AppendLine($"# Strix built-in synthetic dataset 'shapes-pose' v{FormatVersion} (seed {seed}): keypoints {string.Join(", ", KeypointNames)}; regenerate by deleting this folder.");
        yaml.AppendLine("path: .");
        yaml.AppendLine("train: images/train");
        yaml.AppendLine("val: images/val");
        yaml.AppendLine("kpt_shape: [5, 3]");
        yaml.AppendLine($"flip_idx: [{string.Join(", ", FlipIdx)}]");
        yaml.AppendLine("names:");
        for (int c = 0; c < ShapesDataset.ClassNames.Length; c++) yaml.AppendLine($"  {c}: {ShapesDataset.ClassNames[c]}");
        File.WriteAllText(Path.Combine(dir, "data.yaml"), yaml.ToString());
    }

    /// <summary>One pose label row from a normalised outline: class, its box, then the five keypoints (all visible).</summary>
    internal static string Row(int cls, float[] outline)
    {
        var kp = Keypoints(outline);
        float x1 = float.MaxValue, y1 = float.MaxValue, x2 = float.MinValue, y2 = float.MinValue;
        for (int i = 0; i < outline.Length; i += 2)
        {
            x1 = Math.Min(x1, outline[i]); x2 = Math.Max(x2, outline[i]);
            y1 = Math.Min(y1, outline[i + 1]); y2 = Math.Max(y2, outline[i + 1]);
        }
        var sb = new StringBuilder(string.Create(CultureInfo.InvariantCulture, $"{cls} {(x1 + x2) / 2:0.######} {(y1 + y2) / 2:0.######} {x2 - x1:0.######} {y2 - y1:0.######}"));
        for (int k = 0; k < kp.Length; k += 2) sb.Append(string.Create(CultureInfo.InvariantCulture, $" {kp[k]:0.######} {kp[k + 1]:0.######} 2"));
        return sb.ToString();
    }

    /// <summary>
    /// The centre (mean of the outline's points) and the farthest outline crossing of the rays up, right, down and left
    /// from it: x y pairs, in the outline's units.
    /// </summary>
    public static float[] Keypoints(float[] outline)
    {
        int n = outline.Length / 2;
        double cx = 0, cy = 0;
        for (int i = 0; i < n; i++) { cx += outline[2 * i]; cy += outline[2 * i + 1]; }
        cx /= n; cy /= n;
        var result = new float[10];
        result[0] = (float)cx; result[1] = (float)cy;
        var dirs = new (double X, double Y)[] { (0, -1), (1, 0), (0, 1), (-1, 0) };
        for (int k = 0; k < 4; k++)
        {
            var (dx, dy) = dirs[k];
            double best = 0;
            for (int i = 0; i < n; i++)
            {
                double px = outline[2 * i], py = outline[2 * i + 1], qx = outline[2 * ((i + 1) % n)], qy = outline[2 * ((i + 1) % n) + 1];
                // Solve c + t·d = p + s·(q − p) for t ≥ 0, s ∈ [0, 1].
                double ex = qx - px, ey = qy - py, den = dx * ey - dy * ex;
                if (Math.Abs(den) < 1e-12) continue;
                double t = ((px - cx) * ey - (py - cy) * ex) / den;
                double s = ((px - cx) * dy - (py - cy) * dx) / den;
                if (t >= 0 && s >= 0 && s <= 1) best = Math.Max(best, t);
            }
            result[2 + 2 * k] = (float)(cx + best * dx);
            result[3 + 2 * k] = (float)(cy + best * dy);
        }
        return result;
    }
}
