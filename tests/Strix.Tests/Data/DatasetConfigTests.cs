using Strix.Data;

namespace Strix.Tests.Data;

public class DatasetConfigTests
{
    static string WriteYaml(string dir, string text)
    {
        var p = Path.Combine(dir, "data.yaml");
        File.WriteAllText(p, text);
        return p;
    }

    static string TinyImages(string root, string sub, int n = 2)
    {
        var d = Path.Combine(root, sub);
        Directory.CreateDirectory(d);
        for (int i = 0; i < n; i++) ImageIO.Save(RgbImage.Filled(16, 16, 1, 2, 3), Path.Combine(d, $"{sub.Replace('/', '_')}{i}.png"));
        return d;
    }

    [SkippableFact]
    public void Coco128ResolvesPathBesideTheYaml()
    {
        var cfg = DatasetConfig.Load(TestPaths.Asset("coco128.yaml"), workingDirectory: Path.GetTempPath());
        Assert.Equal(80, cfg.Nc);
        Assert.Equal("person", cfg.Names[0]);
        Assert.Equal("toothbrush", cfg.Names[79]);
        Assert.Equal(Path.GetFullPath(TestPaths.Asset("coco128")), cfg.Path);
        Assert.Equal(128, cfg.Train.Count);
        Assert.Equal(cfg.Train, cfg.Val);
        Assert.Null(cfg.Test);
        Assert.All(cfg.Train, f => Assert.True(File.Exists(f)));
    }

    [SkippableFact]
    public void RelativePathFallsBackToWorkingDirectory()
    {
        var root = TestPaths.NewTempDir();
        var cwd = Path.Combine(root, "cwd");
        TinyImages(Path.Combine(cwd, "ds"), "images/train");
        var yamlDir = Path.Combine(root, "configs");
        Directory.CreateDirectory(yamlDir);
        var yaml = WriteYaml(yamlDir, "path: ds\ntrain: images/train\nval: images/train\nnames: [a]\n");
        var cfg = DatasetConfig.Load(yaml, cwd);
        Assert.Equal(Path.Combine(cwd, "ds"), cfg.Path);
        Assert.Equal(2, cfg.Train.Count);

        // Beside the yaml wins over the working directory.
        TinyImages(Path.Combine(yamlDir, "ds"), "images/train", 3);
        Assert.Equal(3, DatasetConfig.Load(yaml, cwd).Train.Count);
    }

    [SkippableFact]
    public void NamesAsListOrMapAndNcIsChecked()
    {
        var root = TestPaths.NewTempDir();
        TinyImages(root, "images/train");
        var list = DatasetConfig.Load(WriteYaml(root, "train: images/train\nval: images/train\nnames: [cat, dog]\nnc: 2\n"));
        Assert.Equal(new[] { "cat", "dog" }, list.Names);
        Assert.Equal(root, list.Path); // no path: → the yaml's folder
        var map = DatasetConfig.Load(WriteYaml(root, "train: images/train\nval: images/train\nnames:\n  1: dog\n  0: cat\n"));
        Assert.Equal(new[] { "cat", "dog" }, map.Names);

        var e = Assert.Throws<InvalidDataException>(() => DatasetConfig.Load(WriteYaml(root, "train: images/train\nval: images/train\nnames: [cat, dog]\nnc: 3\n")));
        Assert.Contains("nc: 3", e.Message);
        e = Assert.Throws<InvalidDataException>(() => DatasetConfig.Load(WriteYaml(root, "train: images/train\nval: images/train\nnames:\n  0: cat\n  2: dog\n")));
        Assert.Contains("index 1 is missing", e.Message);
    }

    [SkippableFact]
    public void YamlWithoutNamesNamesTheKey()
    {
        var root = TestPaths.NewTempDir();
        TinyImages(root, "images/train");
        var yaml = WriteYaml(root, "path: .\ntrain: images/train\nval: images/train\n");
        var e = Assert.Throws<InvalidDataException>(() => DatasetConfig.Load(yaml));
        Assert.Contains("'names'", e.Message);
        Assert.Contains(yaml, e.Message);
    }

    [SkippableFact]
    public void MissingKeyOrImageFolderNamesKeyAndPathTried()
    {
        var root = TestPaths.NewTempDir();
        TinyImages(root, "images/train");
        var e = Assert.Throws<InvalidDataException>(() => DatasetConfig.Load(WriteYaml(root, "train: images/train\nnames: [a]\n")));
        Assert.Contains("missing key 'val'", e.Message);

        var d = Assert.Throws<DirectoryNotFoundException>(() => DatasetConfig.Load(WriteYaml(root, "train: images/train\nval: images/nothere\nnames: [a]\n")));
        Assert.Contains("'val: images/nothere'", d.Message);
        Assert.Contains(Path.Combine(root, "images", "nothere"), d.Message);

        d = Assert.Throws<DirectoryNotFoundException>(() => DatasetConfig.Load(WriteYaml(root, "path: gone\ntrain: images/train\nval: images/train\nnames: [a]\n"), root));
        Assert.Contains("'path: gone'", d.Message);

        Assert.Throws<FileNotFoundException>(() => DatasetConfig.Load(Path.Combine(root, "nope.yaml")));

        Directory.CreateDirectory(Path.Combine(root, "images", "empty"));
        e = Assert.Throws<InvalidDataException>(() => DatasetConfig.Load(WriteYaml(root, "train: images/train\nval: images/empty\nnames: [a]\n")));
        Assert.Contains("'val' has no images", e.Message);
    }

    [SkippableFact]
    public void SplitsMayBeFolderListsAndTxtFiles()
    {
        var root = TestPaths.NewTempDir();
        TinyImages(root, "images/a", 2);
        TinyImages(root, "images/b", 3);
        File.WriteAllText(Path.Combine(root, "val.txt"), "./images/a/images_a0.png\nimages/b/images_b1.png\n\n");
        var cfg = DatasetConfig.Load(WriteYaml(root, "train: [images/a, images/b]\nval: val.txt\ntest: images/b\nnames: [x]\n"));
        Assert.Equal(5, cfg.Train.Count);
        Assert.Equal(new[] { Path.Combine(root, "images", "a", "images_a0.png"), Path.Combine(root, "images", "b", "images_b1.png") }, cfg.Val);
        Assert.Equal(3, cfg.Test!.Count);

        File.WriteAllText(Path.Combine(root, "bad.txt"), "images/a/readme.md\n");
        var e = Assert.Throws<InvalidDataException>(() => DatasetConfig.Load(WriteYaml(root, "train: images/a\nval: bad.txt\nnames: [x]\n")));
        Assert.Contains("bad.txt line 1", e.Message);
    }
}
