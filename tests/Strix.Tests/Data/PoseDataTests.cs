using Strix.Data;
using Strix.Runtime;
using static TorchSharp.torch;

namespace Strix.Tests.Data;

/// <summary>Pose datasets: kpt_shape and flip_idx, keypoint label rows, and keypoints through every augmentation into the batch.</summary>
public class PoseDataTests
{
    [Fact]
    public void Pose_rows_parse_keypoints_and_bad_rows_are_named()
    {
        var shape = new[] { 2, 3 };
        Assert.Null(LabelChecker.ParsePoseRow("0 0.5 0.5 0.2 0.4 0.45 0.4 2 0.9 0.1 0", 1, shape, out var c, out var x, out _, out _, out _, out var k));
        Assert.Equal((0f, 0.5f), (c, x));
        Assert.Equal(new[] { 0.45f, 0.4f, 2f, 0f, 0f, 0f }, k); // an unlabelled point (v = 0) keeps no position
        Assert.Null(LabelChecker.ParsePoseRow("0 0.5 0.5 0.2 0.4 0.45 0.4 0.9 0.1", 1, new[] { 2, 2 }, out _, out _, out _, out _, out _, out var k2));
        Assert.Equal(new[] { 0.45f, 0.4f, 2f, 0.9f, 0.1f, 2f }, k2); // no visibility column: every point counts as visible
        Assert.Contains("has 11", LabelChecker.ParsePoseRow("0 0.5 0.5 0.2 0.4 0.45 0.4 2", 1, shape, out _, out _, out _, out _, out _, out _));
        Assert.Contains("visibility 5", LabelChecker.ParsePoseRow("0 0.5 0.5 0.2 0.4 0.45 0.4 5 0.9 0.1 0", 1, shape, out _, out _, out _, out _, out _, out _));
        Assert.Contains("not normalised", LabelChecker.ParsePoseRow("0 0.5 0.5 0.2 0.4 1.5 0.4 2 0.9 0.1 1", 1, shape, out _, out _, out _, out _, out _, out _));
        Assert.Contains("class 3", LabelChecker.ParsePoseRow("3 0.5 0.5 0.2 0.4 0.45 0.4 2 0.9 0.1 0", 1, shape, out _, out _, out _, out _, out _, out _));
    }

    [Fact]
    public void Keypoints_move_with_every_transform_and_hide_when_they_leave_the_image()
    {
        var inst = new Instances(new float[] { 0 }, new float[] { 10, 10, 30, 40 }, keypoints: new[] { new float[] { 12, 15, 2, 28, 35, 1, 0, 0, 0 } });
        var moved = inst.Affine(2, 0.5f, 4, 1);
        Assert.Equal(new float[] { 28, 8.5f, 2, 60, 18.5f, 1, 4, 1, 0 }, moved.Keypoints![0]);

        // Left-right flip on a 50-wide image: x → 50 − x, and flip_idx [1, 0, 2] swaps the first two points.
        var img = RgbImage.Filled(50, 60, 0, 0, 0);
        Instances Fresh() => inst.Affine(1, 1, 0, 0); // flips work in place: a copy each
        var flipped = Fresh();
        RandomFlip.Horizontal(img, flipped, new[] { 1, 0, 2 });
        Assert.Equal(new float[] { 22, 35, 1, 38, 15, 2, 50, 0, 0 }, flipped.Keypoints![0]);
        var up = Fresh();
        RandomFlip.Vertical(img, up);
        Assert.Equal(new float[] { 12, 45, 2, 28, 25, 1, 0, 60, 0 }, up.Keypoints![0]);

        // Clipping hides what left the image without moving it.
        var outside = new Instances(new float[] { 0 }, new float[] { 10, 10, 30, 40 }, keypoints: new[] { new float[] { -3, 15, 2, 28, 35, 2, 40, 70, 1 } });
        outside.Clip(50, 60);
        Assert.Equal(new float[] { -3, 15, 0, 28, 35, 2, 40, 70, 0 }, outside.Keypoints![0]);

        // Subsets, concatenation and an empty image keep one set per object.
        var both = Instances.Concat(new[] { inst, new Instances(Array.Empty<float>(), Array.Empty<float>(), keypoints: Array.Empty<float[]>()), moved });
        Assert.Equal(2, both.Keypoints!.Length);
        Assert.Same(moved.Keypoints[0], both.Where(i => i == 1).Keypoints![0]);
    }

    [Fact]
    public void A_random_perspective_maps_keypoints_by_its_matrix()
    {
        var img = RgbImage.Filled(64, 64, 100, 100, 100);
        var inst = new Instances(new float[] { 0 }, new float[] { 20, 20, 40, 44 }, keypoints: new[] { new float[] { 25, 30, 2, 35, 40, 2 } });
        var hyp = new AugmentationOptions { Degrees = 30, Scale = 0.3, Translate = 0.1, Shear = 5 };
        var rng = new StrixRandom(7);
        var (_, warped) = RandomPerspective.Apply(img, inst, hyp, rng);
        var m = RandomPerspective.BuildMatrix(64, 64, 64, 64, hyp, new StrixRandom(7), out _); // the same draws
        var k = Assert.Single(warped.Keypoints!);
        for (int j = 0; j < 2; j++)
        {
            var (ex, ey) = AffineWarp.Apply(m, inst.Keypoints![0][j * 3], inst.Keypoints[0][j * 3 + 1]);
            Assert.Equal((float)ex, k[j * 3], 3);
            Assert.Equal((float)ey, k[j * 3 + 1], 3);
            bool inside = ex >= 0 && ey >= 0 && ex <= 64 && ey <= 64;
            Assert.Equal(inside ? 2f : 0f, k[j * 3 + 2]);
        }
    }

    static string PoseDataset(string root, string extraYaml = "")
    {
        var imgDir = Path.Combine(root, "images", "train");
        var lblDir = Path.Combine(root, "labels", "train");
        Directory.CreateDirectory(imgDir);
        Directory.CreateDirectory(lblDir);
        for (int i = 0; i < 3; i++)
        {
            ImageIO.Save(RgbImage.Filled(80, 40, 90, 90, 90), Path.Combine(imgDir, $"p{i}.png"), 100);
            File.WriteAllText(Path.Combine(lblDir, $"p{i}.txt"), $"0 0.5 0.5 0.5 0.5 0.3 0.4 2 0.7 0.6 1 0 0 0\n");
        }
        var yaml = Path.Combine(root, "data.yaml");
        File.WriteAllText(yaml, $"path: .\ntrain: images/train\nval: images/train\nnames: [part]\nkpt_shape: [3, 3]\nflip_idx: [1, 0, 2]\n{extraYaml}");
        return yaml;
    }

    [Fact]
    public void A_pose_dataset_reads_kpt_shape_and_flip_idx_and_refuses_a_bad_flip_idx()
    {
        var root = TestPaths.NewTempDir("pose-yaml");
        var cfg = DatasetConfig.Load(PoseDataset(root));
        Assert.Equal(new[] { 3, 3 }, cfg.KptShape);
        Assert.Equal(new[] { 1, 0, 2 }, cfg.FlipIdx);
        var bad = Path.Combine(root, "bad.yaml");
        File.WriteAllText(bad, "path: .\ntrain: images/train\nval: images/train\nnames: [part]\nkpt_shape: [3, 3]\nflip_idx: [1, 1, 2]\n");
        var e = Assert.Throws<InvalidDataException>(() => DatasetConfig.Load(bad));
        Assert.Contains("bad.yaml", e.Message);
        Assert.Contains("flip_idx", e.Message);
        File.WriteAllText(bad, "path: .\ntrain: images/train\nval: images/train\nnames: [part]\nkpt_shape: [3, 4]\n");
        Assert.Contains("kpt_shape [3, 4]", Assert.Throws<InvalidDataException>(() => DatasetConfig.Load(bad)).Message);
    }

    [Fact]
    public void Keypoints_reach_the_batch_letterboxed_and_the_label_cache_keeps_them()
    {
        var root = TestPaths.NewTempDir("pose-data");
        var cfg = DatasetConfig.Load(PoseDataset(root));
        var options = DataLoaderOptions.ForValidation(64, 3, 0, rect: false) with { KptShape = cfg.KptShape, FlipIdx = cfg.FlipIdx };
        LabelCache.ClearMemory();
        var ds = YoloDataset.Create(cfg, "train", options);
        var k = ds.Items[0].Keypoints!;
        Assert.Equal(new[] { 0.3f, 0.4f, 2f, 0.7f, 0.6f, 1f, 0f, 0f, 0f }, k[0]);
        // An 80×40 image letterboxed to 64×64: scale 0.8, 16 px of padding above and below.
        var s = ds.Load(0, 0);
        var sk = s.Keypoints![0];
        Assert.Equal(0.3f, sk[0], 5);
        Assert.Equal((0.4f * 32 + 16) / 64, sk[1], 5);
        Assert.Equal((2f, 1f, 0f), (sk[2], sk[5], sk[8]));

        using var loader = new DataLoader(ds);
        loader.SetEpoch(0);
        using var e = loader.GetEnumerator();
        Assert.True(e.MoveNext());
        using var batch = e.Current;
        Assert.Equal(new long[] { 3, 3, 3 }, batch.Keypoints!.shape);

        // Training: mosaic, perspective and flips keep one set of keypoints per box, the visible ones inside the image.
        var train = YoloDataset.Create(cfg, "train", DataLoaderOptions.ForTraining(64, 3, 0, seed: 3) with { KptShape = cfg.KptShape, FlipIdx = cfg.FlipIdx });
        for (int epoch = 0; epoch < 4; epoch++)
        {
            var a = train.Load(epoch % 3, epoch);
            Assert.Equal(a.Count, a.Keypoints!.Length);
            foreach (var kp in a.Keypoints)
                for (int j = 0; j < kp.Length; j += 3)
                    if (kp[j + 2] > 0) Assert.True(kp[j] is >= 0 and <= 1 && kp[j + 1] is >= 0 and <= 1, $"visible keypoint ({kp[j]}, {kp[j + 1]}) outside the image");
        }

        LabelCache.ClearMemory(); // the second scan reads the cache file
        var again = YoloDataset.Create(cfg, "train", options);
        Assert.Equal(LabelCache.Source.LoadedFromFile, again.Scan.Source);
        Assert.Equal(k[0], again.Items[0].Keypoints![0]);
        // The same labels without kpt_shape are box rows of the wrong length: named, skipped.
        LabelCache.ClearMemory();
        var warnings = new List<string>();
        Assert.Throws<InvalidDataException>(() => YoloDataset.Create(cfg, "train", options with { KptShape = null, FlipIdx = null }, warnings.Add));
        Assert.Contains(warnings, w => w.Contains("p0.txt line 1"));
    }
}
