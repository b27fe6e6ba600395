using System.Globalization;
using System.Text;

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
    public static string Ensure(string? datasetsDir = null, Action<string>? log = null) =>
        ShapesVariant.Ensure(FolderName, "shapes-pose", datasetsDir, log, tmp => Generate(tmp), $"{TrainScenes} train + {ValScenes} val images");

    /// <summary>Writes images/, labels/ (pose rows) and data.yaml (kpt_shape [5, 3], flip_idx) into <paramref name="dir"/>.</summary>
    public static void Generate(string dir, int trainScenes = TrainScenes, int valScenes = ValScenes, int seed = 0) =>
        ShapesVariant.Generate(dir, trainScenes, valScenes, seed, (cls, outline, _, _) => Row(cls, outline),
            $"# Strix built-in synthetic dataset 'shapes-pose' v{FormatVersion} (seed {seed}): keypoints {string.Join(", ", KeypointNames)}; regenerate by deleting this folder.",
            new[] { "kpt_shape: [5, 3]", $"flip_idx: [{string.Join(", ", FlipIdx)}]" });

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
