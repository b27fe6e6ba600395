using SkiaSharp;
using Strix.Data;

namespace Strix.Tests.Data;

/// <summary>Dataset files a user really has: broken YAML, formats we cannot decode, images too large to be real.</summary>
public class DatasetEdgeCaseTests
{
    static string Dataset(string dir, int good = 3)
    {
        var images = Enumerable.Range(0, good).Select(i => new DataFixtures.Img($"ok{i}.png", 48, 48, "0 0.5 0.5 0.3 0.3\n")).ToList();
        return DataFixtures.Make(dir, images, nc: 2);
    }

    [Theory]
    [InlineData("path: .\ntrain: [images/train\nval: images/train\nnames: [a, b]\n")]   // unterminated flow sequence
    [InlineData("path: .\ntrain: images/train\n  val: : x\nnames: [a, b]\n")]           // bad indentation
    [InlineData("path: .\ntrain: images/train\nval: images/train\nnames: {0: a\n")]      // unterminated mapping
    public void Broken_yaml_is_an_error_naming_the_file(string yaml)
    {
        var dir = TestPaths.NewTempDir();
        var path = Path.Combine(dir, "data.yaml");
        File.WriteAllText(path, yaml);
        var e = Assert.Throws<InvalidDataException>(() => DatasetConfig.Load(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("invalid YAML", e.Message);
    }

    [Fact]
    public void Images_in_formats_we_cannot_decode_are_named_not_ignored()
    {
        var dir = TestPaths.NewTempDir();
        var yaml = Dataset(dir);
        var tif = Path.Combine(dir, "images", "train", "scan.tif");
        File.WriteAllBytes(tif, new byte[] { 0x49, 0x49, 0x2A, 0x00, 8, 0, 0, 0 }); // a TIFF header
        var log = new List<string>();
        var cfg = DatasetConfig.Resolve(yaml, log.Add);
        Assert.Equal(3, cfg.Train.Count);
        Assert.Contains(log, l => l.Contains("skipping 1 image(s) in formats Strix cannot decode") && l.Contains(tif));

        // A split of nothing but such images says so instead of "no images".
        foreach (var f in Directory.GetFiles(Path.Combine(dir, "images", "train"), "*.png")) File.Delete(f);
        var e = Assert.Throws<InvalidDataException>(() => DatasetConfig.Load(yaml));
        Assert.Contains("1 image(s) in formats Strix cannot decode", e.Message);
    }

    /// <summary>A small file that claims a huge canvas is skipped with a warning before its pixels are allocated.</summary>
    [Fact]
    public void An_image_larger_than_the_limit_is_skipped_with_a_warning()
    {
        var dir = TestPaths.NewTempDir();
        var yaml = Dataset(dir);
        var huge = Path.Combine(dir, "images", "train", "huge.png");
        using (var bmp = new SKBitmap(new SKImageInfo(ImageIO.MaxSide + 1, 12, SKColorType.Rgba8888, SKAlphaType.Unpremul)))
        using (var data = bmp.Encode(SKEncodedImageFormat.Png, 100))
            File.WriteAllBytes(huge, data.ToArray());
        Assert.True(new FileInfo(huge).Length < 100_000);
        var cfg = DatasetConfig.Load(yaml);
        var warnings = new List<string>();
        var scan = LabelScan.Run(cfg.Train, cfg.Nc, "train: ", warnings.Add, workers: 1);
        Assert.Equal(3, scan.Valid.Count);
        Assert.True(warnings.Any(w => w.Contains("huge.png") && w.Contains("exceeds the limit")), string.Join("\n", warnings));
        var e = Assert.Throws<InvalidDataException>(() => ImageIO.Load(huge));
        Assert.Contains("exceeds the limit", e.Message);
        Assert.Throws<InvalidDataException>(() => ImageIO.CheckSize(16000, 12000)); // 192 M pixels: past the pixel budget though each side fits
    }
}
