using Strix.Data;
using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Tests.Data;

public class ClassificationDataTests
{
    /// <summary>Writes root/split/class/name.png as a solid colour (value v in every channel).</summary>
    internal static void Write(string root, string split, string cls, string name, byte v, int w = 24, int h = 16)
    {
        var dir = Path.Combine(root, split, cls);
        Directory.CreateDirectory(dir);
        ImageIO.Save(RgbImage.Filled(w, h, v, v, v), Path.Combine(dir, name), 100);
    }

    [Fact]
    public void Folders_give_sorted_class_names_and_broken_or_stray_files_are_named_and_skipped()
    {
        var root = TestPaths.NewTempDir("cls-data");
        Write(root, "train", "zebra", "a.png", 10);
        Write(root, "train", "ant", "b.png", 20);
        Write(root, "train", "ant", "c.png", 30);
        File.WriteAllBytes(Path.Combine(root, "train", "ant", "broken.jpg"), new byte[] { 1, 2, 3, 4 });
        File.WriteAllBytes(Path.Combine(root, "train", "zebra", "scan.tif"), new byte[] { 0x49, 0x49, 42, 0 });
        File.WriteAllText(Path.Combine(root, "train", "zebra", "notes.txt"), "not an image");
        ImageIO.Save(RgbImage.Filled(8, 8, 1, 1, 1), Path.Combine(root, "train", "loose.png"), 100);
        var warnings = new List<string>();
        var ds = ClassificationDataset.Load(root, "train", warnings.Add);

        Assert.Equal(new[] { "ant", "zebra" }, ds.Names); // ordinal order, whatever the file system lists
        Assert.Equal(3, ds.Count);
        Assert.Equal(new[] { 2, 1 }, ds.ClassCounts());
        Assert.All(ds.Images, im => Assert.Equal(Path.GetFileName(Path.GetDirectoryName(im.File)) == "ant" ? 0 : 1, im.Class));
        Assert.Equal(3, warnings.Count);
        Assert.Contains(warnings, w => w.Contains("broken.jpg") && w.Contains("skipped"));
        Assert.Contains(warnings, w => w.Contains("scan.tif") && w.Contains("cannot be decoded"));
        Assert.Contains(warnings, w => w.Contains("loose.png") && w.Contains("outside any class folder"));
    }

    [Fact]
    public void Validation_uses_train_class_indices_skips_unknown_classes_and_falls_back_to_test()
    {
        var root = TestPaths.NewTempDir("cls-val");
        Write(root, "train", "a", "1.png", 10);
        Write(root, "train", "b", "2.png", 10);
        Write(root, "test", "b", "3.png", 10);
        Write(root, "test", "c", "4.png", 10);
        var warnings = new List<string>();
        var val = ClassificationDataset.Load(root, "val", warnings.Add);
        Assert.EndsWith("test", val.Directory);
        var only = Assert.Single(val.Images);
        Assert.Equal(1, only.Class); // b is class 1 in train's order
        Assert.Contains(warnings, w => w.Contains("no val/ folder"));
        Assert.Contains(warnings, w => w.Contains("class 'c' is not in train/"));
    }

    [Fact]
    public void Resolve_root_names_what_is_wrong()
    {
        var root = TestPaths.NewTempDir("cls-resolve");
        Assert.Throws<DirectoryNotFoundException>(() => ClassificationDataset.ResolveRoot(Path.Combine(root, "missing")));
        var e = Assert.Throws<InvalidDataException>(() => ClassificationDataset.ResolveRoot(root));
        Assert.Contains("no train/ folder", e.Message);
        var yaml = Path.Combine(root, "data.yaml");
        File.WriteAllText(yaml, "names: [a]");
        Assert.Contains("reads a folder", Assert.Throws<ArgumentException>(() => ClassificationDataset.ResolveRoot(yaml)).Message);
        Directory.CreateDirectory(Path.Combine(root, "train"));
        Assert.Contains("no class folders", Assert.Throws<InvalidDataException>(() => ClassificationDataset.ReadNames(root)).Message);
    }

    [Fact]
    public void Random_resized_crop_boxes_stay_inside_with_area_and_ratio_in_range()
    {
        var rng = new StrixRandom(3);
        for (int i = 0; i < 500; i++)
        {
            var (x, y, w, h) = ClassifyTransforms.RandomResizedCropBox(200, 120, 0.5, 1.0, 3.0 / 4, 4.0 / 3, rng);
            Assert.InRange(x, 0, 200 - w);
            Assert.InRange(y, 0, 120 - h);
            double ratio = (double)w / h, area = (double)w * h / (200 * 120);
            bool fallback = w == 160 && h == 120; // the centre crop at the widest ratio
            if (!fallback)
            {
                Assert.InRange(ratio, 0.74, 1.35); // rounding to whole pixels moves the ratio a little
                Assert.InRange(area, 0.48, 1.02);
            }
        }
        // No box with a ratio in [3/4, 4/3] fits a 1×100 strip at any area: the centre crop clamped to the ratio range.
        Assert.Equal((0, 49, 1, 1), ClassifyTransforms.RandomResizedCropBox(1, 100, 0.9, 1.0, 3.0 / 4, 4.0 / 3, new StrixRandom(1)));
    }

    [Fact]
    public void Centre_crop_resizes_the_short_side_then_takes_the_middle()
    {
        // 40×20: left half red, right half blue → 20×10 → the middle 10×10 is columns 5..14: five red, five blue.
        var img = RgbImage.Filled(40, 20, 0, 0, 255);
        for (int y = 0; y < 20; y++)
            for (int x = 0; x < 20; x++) { int o = (y * 40 + x) * 3; img.Pixels[o] = 255; img.Pixels[o + 2] = 0; }
        var c = ClassifyTransforms.CenterCrop(img, 10);
        Assert.Equal((10, 10), (c.Width, c.Height));
        for (int x = 0; x < 10; x++)
        {
            int o = (5 * 10 + x) * 3;
            if (x < 4) Assert.Equal((255, 0), (c.Pixels[o], c.Pixels[o + 2]));
            if (x > 5) Assert.Equal((0, 255), (c.Pixels[o], c.Pixels[o + 2]));
        }
    }

    [Fact]
    public void Crop_copies_the_region_and_erasing_blacks_out_a_bounded_rectangle()
    {
        var px = Enumerable.Range(0, 6 * 4 * 3).Select(i => (byte)(i + 1)).ToArray();
        var img = new RgbImage(6, 4, px);
        var c = ClassifyTransforms.Crop(img, 2, 1, 3, 2);
        Assert.Equal(new byte[] { 25, 26, 27, 28, 29, 30, 31, 32, 33, 43, 44, 45, 46, 47, 48, 49, 50, 51 }, c.Pixels);
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassifyTransforms.Crop(img, 4, 0, 3, 2));

        for (int seed = 0; seed < 20; seed++)
        {
            var white = RgbImage.Filled(50, 40, 255, 255, 255);
            ClassifyTransforms.Erase(white, new StrixRandom(seed));
            int black = Enumerable.Range(0, 50 * 40).Count(i => white.Pixels[3 * i] == 0);
            Assert.InRange(black / 2000.0, 0.015, 0.34);
        }
    }

    static ClassificationDataset SixImages(out string root)
    {
        root = TestPaths.NewTempDir("cls-loader");
        for (int i = 0; i < 4; i++) Write(root, "train", "dark", $"d{i}.png", (byte)(10 + i), 40, 30);
        for (int i = 0; i < 2; i++) Write(root, "train", "light", $"l{i}.png", (byte)(200 + i), 40, 30);
        return ClassificationDataset.Load(root, "train");
    }

    [Fact]
    public void Loader_batches_square_crops_with_one_whole_image_label_each()
    {
        var ds = SixImages(out _);
        var loader = new ClassificationLoader(ds, ClassificationLoaderOptions.ForValidation(16, 4, 2));
        Assert.Equal(2, loader.Count);
        var batches = loader.GetEpoch(0).ToList();
        try
        {
            Assert.Equal(new long[] { 4, 3, 16, 16 }, batches[0].Images.shape);
            Assert.Equal(new long[] { 2, 3, 16, 16 }, batches[1].Images.shape);
            Assert.Equal(new float[] { 0, 0, 0, 0 }, batches[0].Cls.data<float>().ToArray());
            Assert.Equal(new float[] { 1, 1 }, batches[1].Cls.data<float>().ToArray());
            Assert.Equal(new float[] { 0, 1, 2, 3 }, batches[0].BatchIdx.data<float>().ToArray());
            Assert.Equal(new float[] { 0.5f, 0.5f, 1, 1 }, batches[1].Bboxes[0].data<float>().ToArray());
            Assert.Equal(201, batches[1].Images[1].max().item<byte>()); // a solid image stays itself under the centre crop
        }
        finally { foreach (var b in batches) b.Dispose(); }
    }

    [Fact]
    public void Training_epochs_are_a_function_of_seed_and_epoch_and_resume_mid_epoch()
    {
        var ds = SixImages(out var root);
        ImageIO.Save(Gradient(40, 30), Path.Combine(root, "train", "dark", "g.png"), 100); // texture, so crops differ
        ds = ClassificationDataset.Load(root, "train");
        var opts = ClassificationLoaderOptions.ForTraining(16, 3, 2, seed: 5, new AugmentationOptions(), erasing: 0.4);
        Tensor[] Epoch(ClassificationLoader l, int e, int start = 0) => l.GetEpoch(e, start).Select(b => { var x = b.Images.clone(); b.Dispose(); return x; }).ToArray();
        var a = Epoch(new ClassificationLoader(ds, opts), 1);
        var b = Epoch(new ClassificationLoader(ds, opts), 1);
        var other = Epoch(new ClassificationLoader(ds, opts), 2);
        var resumed = Epoch(new ClassificationLoader(ds, opts), 1, start: 1);
        Assert.Equal(3, a.Length);
        static bool Same(Tensor x, Tensor y) => x.shape.SequenceEqual(y.shape) && x.eq(y).all().item<bool>();
        for (int i = 0; i < a.Length; i++) Assert.True(Same(a[i], b[i]));
        Assert.False(a.Zip(other).All(p => Same(p.First, p.Second)));
        Assert.Equal(2, resumed.Length);
        Assert.True(Same(resumed[0], a[1]) && Same(resumed[1], a[2]));
    }

    [Fact]
    public void Ranks_split_a_shuffled_epoch_and_fraction_keeps_every_class()
    {
        var ds = SixImages(out _);
        var baseOpts = ClassificationLoaderOptions.ForTraining(16, 2, 1, seed: 1, new AugmentationOptions(), 0);
        var r0 = new ClassificationLoader(ds, baseOpts with { Rank = 0, WorldSize = 2 }).EpochOrder(3);
        var r1 = new ClassificationLoader(ds, baseOpts with { Rank = 1, WorldSize = 2 }).EpochOrder(3);
        Assert.Equal(3, r0.Length);
        Assert.Equal(Enumerable.Range(0, 6), r0.Concat(r1).Order());
        var half = new ClassificationLoader(ds, baseOpts with { Fraction = 0.5 });
        Assert.Equal(3, half.ImageCount); // 2 of 4 dark, 1 of 2 light
        var val0 = new ClassificationLoader(ds, ClassificationLoaderOptions.ForValidation(16, 4, 1) with { Rank = 0, WorldSize = 2 });
        var val1 = new ClassificationLoader(ds, ClassificationLoaderOptions.ForValidation(16, 4, 1) with { Rank = 1, WorldSize = 2 });
        Assert.Equal(new[] { 0, 1, 2, 3 }, val0.EpochOrder(0)); // whole batches: rank 0 the first, rank 1 the second
        Assert.Equal(new[] { 4, 5 }, val1.EpochOrder(0));
    }

    static RgbImage Gradient(int w, int h)
    {
        var img = RgbImage.Filled(w, h, 0, 0, 0);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) { int o = (y * w + x) * 3; img.Pixels[o] = (byte)(x * 6); img.Pixels[o + 1] = (byte)(y * 8); }
        return img;
    }

    [Fact]
    public void Shapes_crops_are_squares_around_the_box_inside_the_image()
    {
        Assert.Null(ShapesClassification.CropBox(0.5, 0.5, 0.04, 0.5, 320, 320)); // 12.8 px wide: too small
        var (x, y, side) = ShapesClassification.CropBox(0.5, 0.5, 0.1, 0.2, 320, 320)!.Value; // 32 × 64 px
        Assert.Equal(83, side); // 64 · 1.3, rounded
        Assert.Equal((118, 118), (x, y));
        var edge = ShapesClassification.CropBox(0.02, 0.98, 0.1, 0.1, 320, 240)!.Value;
        Assert.Equal((0, 240 - edge.Side), (edge.X, edge.Y));
    }

    [Fact]
    public void The_built_in_crops_are_filed_by_class_and_load_as_a_dataset()
    {
        var root = Path.Combine(TestPaths.NewTempDir("shapes-cls"), "shapes-cls");
        Directory.CreateDirectory(Path.Combine(root, "train", "leftover")); // a crashed build: no README, replaced
        Assert.True(Strix.IO.AtomicFolder.Ensure(root, "README.txt", tmp => ShapesClassification.Generate(tmp, trainScenes: 12, valScenes: 4)));
        Assert.False(Directory.Exists(Path.Combine(root, "train", "leftover")));
        Assert.False(Strix.IO.AtomicFolder.Ensure(root, "README.txt", _ => throw new InvalidOperationException("built twice")));
        var train = ClassificationDataset.Load(root, "train");
        Assert.Equal(ShapesDataset.ClassNames.Order(StringComparer.Ordinal), train.Names);
        Assert.InRange(train.Count, 12, 12 * 5);
        var first = ImageIO.Load(train.Images[0].File);
        Assert.Equal((ShapesClassification.CropSize, ShapesClassification.CropSize), (first.Width, first.Height));
        // Every crop's class folder is the class of the shape it was cut around: the scene's label says so.
        for (int scene = 0; scene < 12; scene++)
        {
            var (jpeg, labels) = ShapesDataset.RenderScene(0, 0, scene, 320);
            var sceneImage = ImageIO.Decode(jpeg);
            var kept = labels.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                .Select(l => l.Split(' ').Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray())
                .Where(v => ShapesClassification.CropBox(v[1], v[2], v[3], v[4], sceneImage.Width, sceneImage.Height) is not null).ToList();
            var crops = train.Images.Where(im => Path.GetFileName(im.File).StartsWith($"train_{scene:D5}_")).ToList();
            Assert.Equal(kept.Count, crops.Count);
            for (int k = 0; k < kept.Count; k++)
                Assert.Equal(ShapesDataset.ClassNames[(int)kept[k][0]], train.Names[crops.Single(c => Path.GetFileName(c.File) == $"train_{scene:D5}_{k}.jpg").Class]);
        }
        Assert.True(ClassificationDataset.Load(root, "val").Count > 0);
    }
}
