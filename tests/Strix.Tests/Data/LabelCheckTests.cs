using Strix.Data;

namespace Strix.Tests.Data;

public class LabelCheckTests
{
    static ImageLabels CheckOne(string label, int nc = 3, int w = 40, int h = 30)
    {
        var root = TestPaths.NewTempDir();
        DataFixtures.Make(root, new[] { new DataFixtures.Img("a.png", w, h, label) }, nc: nc);
        return LabelChecker.Check(Path.Combine(root, "images", "train", "a.png"), nc);
    }

    static void AssertCorrupt(ImageLabels r, params string[] parts)
    {
        Assert.Equal(ImageStatus.Corrupt, r.Status);
        Assert.Contains(r.ImageFile, r.Message);
        foreach (var p in parts) Assert.Contains(p, r.Message);
    }

    [Fact]
    public void LabelPathFollowsUltralyticsRule()
    {
        var s = Path.DirectorySeparatorChar;
        Assert.Equal($"{s}d{s}labels{s}train{s}x.txt", LabelChecker.LabelPathFor($"{s}d{s}images{s}train{s}x.jpg"));
        // Only the last /images/ is replaced; files outside images/ get a .txt beside them.
        Assert.Equal($"{s}images{s}a{s}labels{s}x.y.txt", LabelChecker.LabelPathFor($"{s}images{s}a{s}images{s}x.y.png"));
        Assert.Equal($"{s}d{s}x.txt", LabelChecker.LabelPathFor($"{s}d{s}x.jpeg"));
    }

    [Fact]
    public void ValidRowsAreParsedAndClippedWithinTolerance()
    {
        var r = CheckOne("0 0.5 0.5 0.2 0.4\n2 1.005 0.5 0.2 0.2\n\n1 0 0 0.3 0.3 \n");
        Assert.Equal(ImageStatus.Labelled, r.Status);
        Assert.Equal((40, 30), (r.Width, r.Height));
        Assert.Equal(new float[] { 0, 2, 1 }, r.Cls);
        Assert.Equal(new[] { 0.5f, 0.5f, 0.2f, 0.4f }, r.Boxes[..4]);
        // x 1.005 ± 0.1 clipped to [0.905, 1] → centre 0.9525, width 0.095.
        Assert.Equal(0.9525f, r.Boxes[4], 4);
        Assert.Equal(0.095f, r.Boxes[6], 4);
        // corner box clipped to [0, 0.15].
        Assert.Equal(new[] { 0.075f, 0.075f, 0.15f, 0.15f }, r.Boxes[8..].Select(v => MathF.Round(v, 4)).ToArray());
        Assert.Null(r.Message);
    }

    [Fact]
    public void PolygonRowsBecomeTheirEnclosingBox()
    {
        var r = CheckOne("1 0.1 0.2 0.5 0.2 0.3 0.6\n");
        Assert.Equal(ImageStatus.Labelled, r.Status);
        Assert.Equal(new[] { 0.3f, 0.4f, 0.4f, 0.4f }, r.Boxes.Select(v => MathF.Round(v, 5)).ToArray());
    }

    [Fact]
    public void BadClassIsCorruptWithLineNumber()
    {
        AssertCorrupt(CheckOne("0 0.5 0.5 0.1 0.1\n3 0.5 0.5 0.1 0.1\n"), "line 2", "class 3 is out of range [0, 3)");
        AssertCorrupt(CheckOne("-1 0.5 0.5 0.1 0.1\n"), "line 1", "out of range");
        AssertCorrupt(CheckOne("1.5 0.5 0.5 0.1 0.1\n"), "not an integer");
        AssertCorrupt(CheckOne("cat 0.5 0.5 0.1 0.1\n"), "'cat' is not a number");
    }

    [Fact]
    public void FourNumberRowIsCorrupt() =>
        AssertCorrupt(CheckOne("0 0.5 0.5 0.1\n"), "line 1", "4 values");

    [Fact]
    public void NegativeOrZeroSizeIsCorrupt()
    {
        AssertCorrupt(CheckOne("0 0.5 0.5 -0.1 0.2\n"), "width and height must be > 0");
        AssertCorrupt(CheckOne("0 0.5 0.5 0.1 0\n"), "width and height must be > 0");
    }

    [Fact]
    public void OutOfRangeCoordinatesAreCorrupt()
    {
        AssertCorrupt(CheckOne("0 1.2 0.5 0.1 0.1\n"), "1.2 is outside 0–1");
        AssertCorrupt(CheckOne("0 320 240 50 60\n"), "outside 0–1"); // pixel coordinates
        AssertCorrupt(CheckOne("0 -0.02 0.5 0.01 0.1\n"), "outside 0–1");
    }

    [Fact]
    public void DuplicateRowsAreRemovedWithAWarning()
    {
        var r = CheckOne("0 0.5 0.5 0.1 0.1\n1 0.2 0.2 0.1 0.1\n0 0.5 0.5 0.1 0.1\n0 0.50 0.5 0.1 0.1\n");
        Assert.Equal(ImageStatus.Labelled, r.Status);
        Assert.Equal(2, r.Count);
        Assert.Contains("2 duplicate labels removed", r.Message);
        Assert.Contains(r.ImageFile, r.Message);
    }

    [Fact]
    public void MissingOrEmptyLabelFileIsBackground()
    {
        var missing = CheckOne(label: null!);
        Assert.Equal(ImageStatus.Background, missing.Status);
        Assert.True(missing.LabelMissing);
        var empty = CheckOne("\n  \n");
        Assert.Equal(ImageStatus.Background, empty.Status);
        Assert.False(empty.LabelMissing);
    }

    [Fact]
    public void ExifOrientationSwapsTheCheckedSize()
    {
        var root = TestPaths.NewTempDir();
        DataFixtures.Make(root, new[] { new DataFixtures.Img("plain.jpg", 60, 20, "0 0.5 0.5 0.2 0.2\n") });
        var dir = Path.Combine(root, "images", "train");
        var rotated = Path.Combine(dir, "rotated.jpg");
        File.WriteAllBytes(rotated, DataFixtures.WithExifOrientation(File.ReadAllBytes(Path.Combine(dir, "plain.jpg")), 6));
        var r = LabelChecker.Check(rotated, 1);
        Assert.Equal((20, 60), (r.Width, r.Height)); // stored 60x20, shown rotated 90°
        Assert.Equal((60, 20), (LabelChecker.Check(Path.Combine(dir, "plain.jpg"), 1).Width, 20));
        var img = ImageIO.Load(rotated);
        Assert.Equal((20, 60), (img.Width, img.Height));
    }

    [Fact]
    public void BrokenImagesAreCorrupt()
    {
        var root = TestPaths.NewTempDir();
        DataFixtures.Make(root, new[] { new DataFixtures.Img("good.jpg", 64, 48, "0 0.5 0.5 0.2 0.2\n"), new DataFixtures.Img("tiny.png", 9, 40, "0 0.5 0.5 0.2 0.2\n") });
        var dir = Path.Combine(root, "images", "train");
        var good = File.ReadAllBytes(Path.Combine(dir, "good.jpg"));
        File.WriteAllBytes(Path.Combine(dir, "truncated.jpg"), good[..(good.Length / 2)]);
        File.WriteAllBytes(Path.Combine(dir, "empty.jpg"), Array.Empty<byte>());
        File.WriteAllText(Path.Combine(dir, "text.jpg"), "not an image at all");

        Assert.Equal(ImageStatus.Labelled, LabelChecker.Check(Path.Combine(dir, "good.jpg"), 1).Status);
        AssertCorrupt(LabelChecker.Check(Path.Combine(dir, "truncated.jpg"), 1), "truncated");
        AssertCorrupt(LabelChecker.Check(Path.Combine(dir, "empty.jpg"), 1), "empty file");
        AssertCorrupt(LabelChecker.Check(Path.Combine(dir, "text.jpg"), 1), "not a decodable image");
        AssertCorrupt(LabelChecker.Check(Path.Combine(dir, "tiny.png"), 1), "9x40 is below 10 pixels");
    }
}
