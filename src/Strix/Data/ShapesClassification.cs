using System.Globalization;
using Strix.IO;
using System.Text;

namespace Strix.Data;

/// <summary>
/// The built-in <c>data=shapes-cls</c> dataset: crops of the <c>shapes</c> scenes, one shape per image, filed by
/// class (<c>train/circle/…</c>, Ultralytics' classification layout). Each crop is the shape's box grown by a
/// margin to a square, so neighbours, clutter and occluders come with it as they would in a real inspection crop;
/// shapes under <see cref="MinSide"/> pixels are left out. Generated on first use into
/// <see cref="ShapesDataset.DatasetsDir"/>, reproducibly, atomically (a temporary folder, then a rename).
/// </summary>
public static class ShapesClassification
{
    /// <summary>Bumped when generation changes.</summary>
    public const int FormatVersion = 1;
    /// <summary>Scenes cropped per split: about three shapes each.</summary>
    public const int TrainScenes = 800, ValScenes = 150;
    /// <summary>Side of the saved crops.</summary>
    public const int CropSize = 64;
    /// <summary>Smallest box side (pixels in the 320 scene) worth a crop.</summary>
    public const int MinSide = 16;
    const double Margin = 0.15;

    public static bool IsBuiltInName(string data) => data.Trim().ToLowerInvariant() is "shapes-cls" or "shapes-cls.yaml";

    public static string FolderName => $"shapes-cls-v{FormatVersion}";

    /// <summary>The dataset folder, generating it first if needed.</summary>
    public static string Ensure(string? datasetsDir = null, Action<string>? log = null)
    {
        var final = Path.Combine(datasetsDir ?? ShapesDataset.DatasetsDir, FolderName);
        if (File.Exists(Path.Combine(final, "README.txt"))) return final;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        log?.Invoke($"Generating the built-in 'shapes-cls' dataset (crops of {TrainScenes} train + {ValScenes} val scenes) into {final} …");
        AtomicFolder.Ensure(final, "README.txt", tmp => Generate(tmp));
        log?.Invoke($"Generated 'shapes-cls' in {sw.Elapsed.TotalSeconds:0.0} s");
        return final;
    }

    /// <summary>Writes train/&lt;class&gt;/ and val/&lt;class&gt;/ crops and a README into <paramref name="dir"/>.</summary>
    public static void Generate(string dir, int trainScenes = TrainScenes, int valScenes = ValScenes, int seed = 0)
    {
        foreach (var split in new[] { "train", "val" })
            foreach (var name in ShapesDataset.ClassNames) Directory.CreateDirectory(Path.Combine(dir, split, name));
        var jobs = Enumerable.Range(0, trainScenes).Select(i => ("train", 0, i)).Concat(Enumerable.Range(0, valScenes).Select(i => ("val", 1, i))).ToArray();
        Parallel.ForEach(jobs, job =>
        {
            var (split, splitId, i) = job;
            var (jpeg, labels) = ShapesDataset.RenderScene(seed, splitId, i, 320);
            var scene = ImageIO.Decode(jpeg);
            int k = 0;
            foreach (var line in labels.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var v = line.Split(' ').Select(t => double.Parse(t, CultureInfo.InvariantCulture)).ToArray();
                if (CropBox(v[1], v[2], v[3], v[4], scene.Width, scene.Height) is not { } box) continue;
                var crop = ImageOps.ResizeBilinear(ClassifyTransforms.Crop(scene, box.X, box.Y, box.Side, box.Side), CropSize, CropSize);
                ImageIO.Save(crop, Path.Combine(dir, split, ShapesDataset.ClassNames[(int)v[0]], $"{split}_{i:D5}_{k++}.jpg"), 92);
            }
        });
        var readme = new StringBuilder();
        readme.AppendLine($"Strix built-in classification dataset 'shapes-cls' v{FormatVersion} (seed {seed}): {CropSize}x{CropSize} crops of the 'shapes' scenes,");
        readme.AppendLine($"one folder per class ({string.Join(", ", ShapesDataset.ClassNames)}). Regenerate by deleting this folder.");
        File.WriteAllText(Path.Combine(dir, "README.txt"), readme.ToString());
    }

    /// <summary>The square crop around a normalised box (grown by the margin, clamped inside the image), or null for a box too small.</summary>
    internal static (int X, int Y, int Side)? CropBox(double cx, double cy, double w, double h, int width, int height)
    {
        double bw = w * width, bh = h * height;
        if (Math.Min(bw, bh) < MinSide) return null;
        int side = (int)Math.Round(Math.Max(bw, bh) * (1 + 2 * Margin));
        side = Math.Min(side, Math.Min(width, height));
        int x = (int)Math.Round(cx * width - side / 2.0), y = (int)Math.Round(cy * height - side / 2.0);
        return (Math.Clamp(x, 0, width - side), Math.Clamp(y, 0, height - side), side);
    }
}
