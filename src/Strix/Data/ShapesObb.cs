using System.Globalization;
using System.Text;

namespace Strix.Data;

/// <summary>
/// The built-in <c>data=shapes-obb</c> dataset: scenes like <c>shapes-seg</c>'s whose shapes are stretched along their own
/// axis of symmetry (aspect 1.4–2.5: rectangles, ellipses, long stars and crosses, parts lying at any angle), each labelled with its
/// oriented box in Ultralytics' OBB format (<c>class x1 y1 x2 y2 x3 y3 x4 y4</c>, normalised): the smallest-area
/// rectangle around its exact outline. Stretched, every box has a definite angle: ProbIoU, the OBB loss, cannot see the
/// angle of a square box, so square-ish parts would teach no rotation. Generated on first use, atomically.
/// </summary>
public static class ShapesObb
{
    public const int FormatVersion = 3;
    public const int TrainScenes = 1000, ValScenes = 200;

    public static bool IsBuiltInName(string data) => data.Trim().ToLowerInvariant() is "shapes-obb" or "shapes-obb.yaml";

    public static string FolderName => $"shapes-obb-v{FormatVersion}";

    /// <summary>The data.yaml of the generated dataset, generating it first if needed.</summary>
    public static string Ensure(string? datasetsDir = null, Action<string>? log = null) =>
        ShapesVariant.Ensure(FolderName, "shapes-obb", datasetsDir, log, tmp => Generate(tmp), $"{TrainScenes} train + {ValScenes} val images");

    /// <summary>Writes images/, labels/ (OBB rows) and data.yaml into <paramref name="dir"/>.</summary>
    public static void Generate(string dir, int trainScenes = TrainScenes, int valScenes = ValScenes, int seed = 0) =>
        ShapesVariant.Generate(dir, trainScenes, valScenes, seed, Row,
            $"# Strix built-in synthetic dataset 'shapes-obb' v{FormatVersion} (seed {seed}): oriented boxes of stretched shapes; regenerate by deleting this folder.",
            Array.Empty<string>(), elongate: true);

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
