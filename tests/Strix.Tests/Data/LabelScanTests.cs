using Strix.Data;

namespace Strix.Tests.Data;

public class LabelScanTests
{
    [SkippableFact]
    public void Coco128SummaryMatchesUltralytics()
    {
        var cfg = DatasetConfig.Load(TestPaths.Asset("coco128.yaml"));
        var warnings = new List<string>();
        var scan = LabelScan.Run(cfg.Train, cfg.Nc, "train: ", warnings.Add);
        Assert.Equal(126, scan.Labelled);
        Assert.Equal(2, scan.Backgrounds);
        Assert.Equal(2, scan.Missing);
        Assert.Equal(0, scan.Corrupt);
        Assert.Equal(929, scan.Instances);
        Assert.Equal(254, scan.ClassCounts[0]); // person
        Assert.Equal(2, scan.OrphanLabelFiles);  // two label files without an image
        Assert.StartsWith("train: 126 images with labels, 2 backgrounds, 0 corrupt, 929 instances", scan.Summary);
        // Tests read the shared data through a mirror: the cache lands there, never in ../shared, whoever runs the tests.
        var shared = Path.Combine(TestPaths.SharedAssets, Path.GetRelativePath(Path.GetDirectoryName(TestPaths.Asset("coco128.yaml"))!, cfg.Train[0]));
        Assert.False(File.Exists(LabelCache.PathFor(new[] { shared })), $"a label cache appeared in {TestPaths.SharedAssets}");
    }

    [SkippableFact]
    public void EveryBadFileGivesOneWarningAndNothingCrashes()
    {
        var root = TestPaths.NewTempDir();
        var ok = "0 0.5 0.5 0.2 0.2\n";
        DataFixtures.Make(root, new DataFixtures.Img[]
        {
            new("ok1.png", 40, 40, ok), new("ok2.png", 40, 40, ok + "1 0.3 0.3 0.1 0.1\n"),
            new("dup.png", 40, 40, ok + ok), new("bg.png", 40, 40, null), new("emptylabel.png", 40, 40, ""),
            new("badclass.png", 40, 40, "7 0.5 0.5 0.2 0.2\n"), new("four.png", 40, 40, "0 0.5 0.5 0.2\n"),
            new("negw.png", 40, 40, "0 0.5 0.5 -0.2 0.2\n"), new("range.png", 40, 40, "0 1.5 0.5 0.2 0.2\n"),
        }, nc: 2);
        var dir = Path.Combine(root, "images", "train");
        File.WriteAllBytes(Path.Combine(dir, "corrupt.jpg"), new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3 });
        File.WriteAllBytes(Path.Combine(dir, "empty.png"), Array.Empty<byte>());
        var cfg = DatasetConfig.Load(Path.Combine(root, "data.yaml"));

        var warnings = new List<string>();
        var scan = LabelScan.Run(cfg.Train, cfg.Nc, "train: ", warnings.Add);
        Assert.Equal(3, scan.Labelled);
        Assert.Equal(2, scan.Backgrounds);
        Assert.Equal(6, scan.Corrupt);
        Assert.Equal(4, scan.Instances);
        Assert.Equal(5, scan.Valid.Count);
        foreach (var bad in new[] { "badclass.png", "four.png", "negw.png", "range.png", "corrupt.jpg", "empty.png", "dup.png" })
            Assert.Single(warnings, w => w.Contains(Path.Combine(dir, bad)));
        Assert.Equal(7, warnings.Count);
    }

    [SkippableFact]
    public void MissingLabelFolderMeansBackgroundsAndAWarning()
    {
        var root = TestPaths.NewTempDir();
        DataFixtures.Make(root, new DataFixtures.Img[] { new("a.png", 32, 32, null), new("b.png", 32, 32, null) });
        Assert.False(Directory.Exists(Path.Combine(root, "labels")));
        var warnings = new List<string>();
        var scan = LabelScan.Run(DatasetConfig.Load(Path.Combine(root, "data.yaml")).Train, 4, "train: ", warnings.Add);
        Assert.Equal(2, scan.Backgrounds);
        Assert.Equal(0, scan.Labelled);
        Assert.Contains(warnings, w => w.Contains("no labels found") && w.Contains(Path.Combine(root, "labels", "train")));
    }

    [SkippableFact]
    public void AllCorruptIsAnError()
    {
        var root = TestPaths.NewTempDir();
        var dir = Path.Combine(root, "images", "train");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "x.jpg"), "nope");
        var e = Assert.Throws<InvalidDataException>(() => LabelScan.Run(new[] { Path.Combine(dir, "x.jpg") }, 1, "train: ", _ => { }));
        Assert.Contains("x.jpg", e.Message);
    }
}
