using Strix.Data;

namespace Strix.Tests.Data;

public class ShapesDatasetTests
{
    static readonly ShapesOptions Small = new() { Seed = 3, Train = 24, Val = 6, ImageSize = 128 };

    [Fact]
    public void GeneratesAValidReproducibleDatasetAtomically()
    {
        var a = TestPaths.NewTempDir();
        var b = TestPaths.NewTempDir();
        var yamlA = ShapesDataset.Ensure(a, Small);
        var yamlB = ShapesDataset.Ensure(b, Small);
        Assert.Equal(Path.Combine(a, Small.FolderName, "data.yaml"), yamlA);
        Assert.Equal(new[] { Small.FolderName }, Directory.GetDirectories(a).Select(Path.GetFileName)); // no temp folder left

        var cfg = DatasetConfig.Load(yamlA);
        Assert.Equal(ShapesDataset.ClassNames, cfg.Names);
        Assert.Equal(24, cfg.Train.Count);
        Assert.Equal(6, cfg.Val.Count);

        // Same seed → byte-identical images and labels.
        var filesA = Directory.GetFiles(Path.Combine(a, Small.FolderName), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(a, f)).Order().ToArray();
        var filesB = Directory.GetFiles(Path.Combine(b, Small.FolderName), "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(b, f)).Order().ToArray();
        Assert.Equal(filesA, filesB);
        foreach (var f in filesA) Assert.Equal(File.ReadAllBytes(Path.Combine(a, f)), File.ReadAllBytes(Path.Combine(b, f)));

        var warnings = new List<string>();
        var scan = LabelScan.Run(cfg.Train, cfg.Nc, "train: ", warnings.Add);
        Assert.Equal(0, scan.Corrupt);
        Assert.Empty(warnings);
        Assert.True(scan.Instances >= 24);
        Assert.True(scan.ClassCounts.Count(c => c > 0) >= 5, "most classes appear in a handful of images");
        // Some small objects (< 10 % of the image side) and some large ones (> 25 %).
        var sizes = scan.Valid.SelectMany(l => Enumerable.Range(0, l.Count).Select(i => Math.Max(l.Boxes[4 * i + 2], l.Boxes[4 * i + 3]))).ToList();
        Assert.Contains(sizes, s => s < 0.1f);
        Assert.Contains(sizes, s => s > 0.25f);

        // A second Ensure finds it and does not regenerate.
        var stamp = File.GetLastWriteTimeUtc(yamlA);
        Assert.Equal(yamlA, ShapesDataset.Ensure(a, Small));
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(yamlA));
    }

    [Fact]
    public void DifferentSeedsDiffer()
    {
        var (j1, l1) = ShapesDataset.RenderScene(1, 0, 0, 96);
        var (j2, l2) = ShapesDataset.RenderScene(2, 0, 0, 96);
        Assert.NotEqual(j1, j2);
        var (j1b, l1b) = ShapesDataset.RenderScene(1, 0, 0, 96);
        Assert.Equal(j1, j1b);
        Assert.Equal(l1, l1b);
    }

    [Fact]
    public void ShapesIsRecognisedAsBuiltIn()
    {
        Assert.True(ShapesDataset.IsBuiltInName("shapes"));
        Assert.True(ShapesDataset.IsBuiltInName("Shapes.yaml"));
        Assert.False(ShapesDataset.IsBuiltInName("coco128.yaml"));
        Assert.Equal("shapes-v1", new ShapesOptions().FolderName);
    }
}
