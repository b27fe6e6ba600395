using System.Globalization;
using Strix.Data;
using Strix.Runtime;

namespace Strix.Tests.Data;

public class PolygonTests
{
    static int[] SetPixels(byte[] mask) => Enumerable.Range(0, mask.Length).Where(i => mask[i] != 0).ToArray();

    [Fact]
    public void A_square_fills_the_pixels_whose_centres_it_covers()
    {
        var mask = new byte[16];
        int n = Polygons.Fill(new float[] { 1, 1, 3, 1, 3, 3, 1, 3 }, 1, mask, 4, 4, 1);
        Assert.Equal(4, n);
        Assert.Equal(new[] { 5, 6, 9, 10 }, SetPixels(mask)); // (1,1) (2,1) (1,2) (2,2)
    }

    [Fact]
    public void A_triangle_fills_the_pixels_below_its_hypotenuse()
    {
        // Centre (x+½, y+½) is inside x + y + 1 < 4: rows of 3, 2 and 1 pixels; centres on the hypotenuse are outside.
        var mask = new byte[16];
        Polygons.Fill(new float[] { 0, 0, 4, 0, 0, 4 }, 1, mask, 4, 4, 7);
        Assert.Equal(new[] { 0, 1, 2, 4, 5, 8 }, SetPixels(mask));
        Assert.All(SetPixels(mask), i => Assert.Equal(7, mask[i]));
    }

    [Fact]
    public void The_mask_ratio_divides_the_coordinates()
    {
        var mask = new byte[16];
        Polygons.Fill(new float[] { 4, 4, 12, 4, 12, 12, 4, 12 }, 4, mask, 4, 4, 1); // image pixels 4–12 at ratio 4: mask pixels 1–3
        Assert.Equal(new[] { 5, 6, 9, 10 }, SetPixels(mask));
    }

    [Fact]
    public void Two_polygons_sharing_an_edge_never_claim_the_same_pixel()
    {
        var a = new byte[64]; var b = new byte[64];
        int na = Polygons.Fill(new float[] { 0, 0, 3.3f, 0, 5.1f, 8, 0, 8 }, 1, a, 8, 8, 1);
        int nb = Polygons.Fill(new float[] { 3.3f, 0, 8, 0, 8, 8, 5.1f, 8 }, 1, b, 8, 8, 1);
        Assert.Equal(64, na + nb);
        Assert.DoesNotContain(Enumerable.Range(0, 64), i => a[i] != 0 && b[i] != 0);
    }

    [Fact]
    public void Resampling_spaces_points_evenly_along_the_outline()
    {
        var r = Polygons.Resample(new float[] { 0, 0, 4, 0, 4, 4, 0, 4 }, 8);
        Assert.Equal(new float[] { 0, 0, 2, 0, 4, 0, 4, 2, 4, 4, 2, 4, 0, 4, 0, 2 }, r);
        // Uneven vertices: a 1×3 rectangle given with an extra vertex on its long side.
        var u = Polygons.Resample(new float[] { 0, 0, 1, 0, 3, 0, 3, 1, 0, 1 }, 4);
        Assert.Equal(new float[] { 0, 0, 2, 0, 3, 1, 1, 1 }, u);
    }

    [Fact]
    public void The_box_inside_ignores_points_outside_the_image()
    {
        var box = Polygons.BoxInside(new float[] { -5, 2, 3, 2, 3, 7, 12, 20 }, 10, 10);
        Assert.Equal((3f, 2f, 3f, 7f), box);
        Assert.Null(Polygons.BoxInside(new float[] { -1, -1, 20, 20, 30, 5 }, 10, 10));
    }
}

public class InstanceMaskTests
{
    static Instances TwoSquares() => new(new float[] { 0, 1 }, new float[] { 2, 2, 6, 6, 0, 0, 16, 16 },
        new[] { new float[] { 2, 2, 6, 2, 6, 6, 2, 6 }, new float[] { 0, 0, 16, 0, 16, 16, 0, 16 } });

    [Fact]
    public void Overlap_masks_number_objects_largest_first_with_small_ones_on_top()
    {
        var (m, order) = InstanceMasks.Rasterize(TwoSquares(), 16, 16, 2, overlap: true);
        Assert.Equal(new[] { 1, 0 }, order); // the 16×16 square first
        Assert.True(m.Overlap);
        Assert.Equal((8, 8), (m.Width, m.Height));
        var idx = m.Index!;
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
                Assert.Equal(x is >= 1 and < 3 && y is >= 1 and < 3 ? 2 : 1, idx[y * 8 + x]);
    }

    [Fact]
    public void Without_overlap_each_object_has_its_own_plane()
    {
        var (m, order) = InstanceMasks.Rasterize(TwoSquares(), 16, 16, 2, overlap: false);
        Assert.Equal(new[] { 0, 1 }, order);
        Assert.Equal(2, m.Count);
        Assert.Equal(4, m.Binary!.Take(64).Count(v => v == 1));
        Assert.Equal(64, m.Binary!.Skip(64).Count(v => v == 1));
    }
}

public class PolygonTransformTests
{
    static Instances Triangle() => new(new float[] { 3 }, new float[] { 10, 20, 50, 60 },
        new[] { new float[] { 10, 20, 50, 20, 30, 60 } });

    [Fact]
    public void Flips_mirror_the_vertices()
    {
        var inst = Triangle();
        var img = RgbImage.Filled(100, 80, 0, 0, 0);
        RandomFlip.Horizontal(img, inst);
        Assert.Equal(new float[] { 90, 20, 50, 20, 70, 60 }, inst.Segments![0]);
        Assert.Equal(new float[] { 50, 20, 90, 60 }, inst.Xyxy);
        RandomFlip.Vertical(img, inst);
        Assert.Equal(new float[] { 90, 60, 50, 60, 70, 20 }, inst.Segments![0]);
    }

    [Fact]
    public void Letterbox_scaling_and_mosaic_shifts_move_the_vertices()
    {
        var moved = Triangle().Affine(0.5f, 0.25f, 7, -3);
        Assert.Equal(new float[] { 12, 2, 32, 2, 22, 12 }, moved.Segments![0]);
        moved.Clip(20, 10);
        Assert.Equal(new float[] { 12, 2, 20, 2, 20, 10 }, moved.Segments![0]);
    }

    [Fact]
    public void The_mosaic_crop_warp_moves_vertices_and_boxes_come_from_the_points_inside()
    {
        // No rotation, scale, shear or translation jitter: the mosaic's −s/2 border is a pure shift by (−32, −32).
        var hyp = AugmentationOptions.None;
        var canvas = RgbImage.Filled(128, 128, 114, 114, 114);
        // A 40×40 square at (42..82, 12..52): its top 20 rows fall above the cropped output.
        var sq = new Instances(new float[] { 0 }, new float[] { 42, 12, 82, 52 },
            new[] { Polygons.Resample(new float[] { 42, 12, 82, 12, 82, 52, 42, 52 }, 160) });
        var (img, kept) = RandomPerspective.Apply(canvas, sq, hyp, new StrixRandom(1), borderH: -32, borderW: -32);
        Assert.Equal((64, 64), (img.Width, img.Height));
        Assert.Equal(1, kept.Count);
        Assert.Equal(new float[] { 10, 0, 50, 20 }, kept.Xyxy.Select(v => MathF.Round(v, 3)).ToArray());
        Assert.All(Enumerable.Range(0, kept.Segments![0].Length / 2), i =>
        {
            Assert.InRange(kept.Segments[0][2 * i], 10, 50);
            Assert.InRange(kept.Segments[0][2 * i + 1], 0, 20);
        });
    }

    [Fact]
    public void Concatenating_parts_keeps_polygons_unless_a_labelled_part_has_none()
    {
        var withPolygons = Triangle();
        var background = new Instances(Array.Empty<float>(), Array.Empty<float>(), Array.Empty<float[]>());
        var boxesOnly = new Instances(new float[] { 1 }, new float[] { 0, 0, 5, 5 });
        Assert.Single(Instances.Concat(new[] { withPolygons, background }).Segments!);
        Assert.Null(Instances.Concat(new[] { withPolygons, boxesOnly }).Segments);
        Assert.Null(Instances.Concat(new[] { boxesOnly, boxesOnly }).Segments);
    }
}

public class SegmentLabelTests
{
    static (string Image, string LabelDir) OneImage()
    {
        var root = TestPaths.NewTempDir();
        DataFixtures.Make(root, new[] { new DataFixtures.Img("a.png", 40, 40, "") });
        return (Path.Combine(root, "images", "train", "a.png"), Path.Combine(root, "labels", "train"));
    }

    [Fact]
    public void Polygon_rows_keep_their_vertices_and_give_their_box()
    {
        var (img, labels) = OneImage();
        File.WriteAllText(Path.Combine(labels, "a.txt"), "1 0.1 0.2 0.5 0.2 0.3 0.6\n0 0.5 0.5 0.9 0.5 0.9 0.9 0.5 0.9\n");
        var l = LabelChecker.Check(img, 2);
        Assert.Equal(ImageStatus.Labelled, l.Status);
        Assert.Null(l.Message);
        Assert.Equal(2, l.Segments!.Length);
        Assert.Equal(new[] { 0.1f, 0.2f, 0.5f, 0.2f, 0.3f, 0.6f }, l.Segments[0]);
        Assert.Equal(new[] { 0.3f, 0.4f, 0.4f, 0.4f }, l.Boxes.Take(4).Select(v => MathF.Round(v, 5)).ToArray());
    }

    [Fact]
    public void A_file_mixing_boxes_and_polygons_keeps_the_boxes_and_says_so()
    {
        var (img, labels) = OneImage();
        var file = Path.Combine(labels, "a.txt");
        File.WriteAllText(file, "1 0.1 0.2 0.5 0.2 0.3 0.6\n0 0.5 0.5 0.2 0.2\n");
        var l = LabelChecker.Check(img, 2);
        Assert.Equal(2, l.Count);
        Assert.Null(l.Segments);
        Assert.Contains(file, l.Message);
        Assert.Contains("mixes 1 box row and 1 polygon row", l.Message);
    }

    [Theory]
    [InlineData("0 0.1 0.2 0.5 0.2 0.3", "line 1: 6 values in a row: a polygon row is a class and x y pairs, so its count must be odd")]
    [InlineData("0 0.1 0.2 0.5 0.2 0.3 0.6 0.7 0.8\n1 0.1 0.2 0.5 nan 0.3 0.6", "line 2: 'nan' is not a number")]
    [InlineData("0 0.1 0.2 0.5 0.2 1.3 0.6", "line 1: polygon point (1.3, 0.6) is not normalised to 0–1")]
    [InlineData("0 0.1 0.2 0.5", "line 1: 4 values in a row; expected 5 (class x_center y_center width height) or a class and at least 3 polygon points")]
    public void A_bad_polygon_names_the_file_and_line(string text, string expected)
    {
        var (img, labels) = OneImage();
        var file = Path.Combine(labels, "a.txt");
        File.WriteAllText(file, text + "\n");
        var l = LabelChecker.Check(img, 2);
        Assert.Equal(ImageStatus.Corrupt, l.Status);
        Assert.Contains($"{file} {expected}", l.Message);
    }

    [Fact]
    public void The_label_cache_round_trips_polygons()
    {
        var (img, labels) = OneImage();
        File.WriteAllText(Path.Combine(labels, "a.txt"), "1 0.1 0.2 0.5 0.2 0.3 0.6 0.2 0.5\n");
        var checkedLabels = new[] { LabelChecker.Check(img, 2) };
        var cache = Path.Combine(TestPaths.NewTempDir(), "x.cache");
        LabelCache.Write(cache, "k", checkedLabels);
        var (read, why) = LabelCache.TryRead(cache, "k", new[] { img });
        Assert.True(read is not null, why);
        Assert.Equal(checkedLabels[0].Segments![0], read![0].Segments![0]);
        Assert.Equal(checkedLabels[0].Boxes, read[0].Boxes);
    }
}

public class SegmentationSampleTests
{
    /// <summary>The rectangles dataset with each label row written as its four corners (a polygon).</summary>
    static readonly Lazy<string> Yaml = new(() =>
    {
        var yaml = DataFixtures.Rectangles(TestPaths.NewTempDir(), 12);
        foreach (var f in Directory.GetFiles(Path.Combine(Path.GetDirectoryName(yaml)!, "labels", "train"), "*.txt"))
        {
            var rows = File.ReadAllLines(f).Where(l => l.Trim().Length > 0).Select(l =>
            {
                var v = l.Split(' ').Select(t => float.Parse(t, CultureInfo.InvariantCulture)).ToArray();
                float x1 = v[1] - v[3] / 2, y1 = v[2] - v[4] / 2, x2 = v[1] + v[3] / 2, y2 = v[2] + v[4] / 2;
                return string.Create(CultureInfo.InvariantCulture, $"{(int)v[0]} {x1} {y1} {x2} {y1} {x2} {y2} {x1} {y2}");
            });
            File.WriteAllLines(f, rows);
        }
        return yaml;
    });

    static YoloDataset Dataset(bool augment, bool overlap, AugmentationOptions? hyp = null) =>
        YoloDataset.Create(DatasetConfig.Load(Yaml.Value), "train", new DataLoaderOptions
        {
            ImgSize = 128, Augment = augment, Hyp = hyp ?? AugmentationOptions.None, Seed = 5, Segments = true, OverlapMask = overlap,
        }, _ => { });

    static (byte R, byte G, byte B) Px(RgbImage img, int x, int y)
    {
        int i = (y * img.Width + x) * 3;
        return (img.Pixels[i], img.Pixels[i + 1], img.Pixels[i + 2]);
    }

    /// <summary>
    /// Whether the image has <paramref name="colour"/> at the centre of mask pixel (x, y): the centre lies on the corner of
    /// four image pixels, and the mask claims the pixel when its centre is inside, so any of the four may be the object's.
    /// </summary>
    static bool ColourAtCentre(RgbImage img, int x, int y, int r, (byte R, byte G, byte B) colour)
    {
        for (int dy = -1; dy <= 0; dy++)
            for (int dx = -1; dx <= 0; dx++)
            {
                var p = Px(img, Math.Clamp(x * r + r / 2 + dx, 0, img.Width - 1), Math.Clamp(y * r + r / 2 + dy, 0, img.Height - 1));
                if (Math.Abs(p.R - colour.R) <= 12 && Math.Abs(p.G - colour.G) <= 12 && Math.Abs(p.B - colour.B) <= 12) return true;
            }
        return false;
    }

    /// <summary>For each object, the fraction of its mask pixels whose image pixel (at the mask pixel's centre) has its class colour.</summary>
    /// <remarks>
    /// With <paramref name="interior"/> only mask pixels whose four neighbours are in the mask too are judged: after a rotation
    /// the image's edges are blends of two colours for a pixel or so, and a small object's corners are all edge.
    /// </remarks>
    static IEnumerable<(int Object, int Pixels, double Match)> MaskColourAgreement(Sample s, bool interior = false)
    {
        var m = s.Masks!;
        int r = s.Image.Width / m.Width;
        for (int k = 0; k < s.Count; k++)
        {
            var colour = DataFixtures.ClassColors[(int)s.Cls[k]];
            bool On(int x, int y) => x >= 0 && y >= 0 && x < m.Width && y < m.Height &&
                (m.Overlap ? m.Index![y * m.Width + x] == k + 1 : m.Binary![(k * m.Height + y) * m.Width + x] == 1);
            int pixels = 0, judged = 0, match = 0;
            for (int y = 0; y < m.Height; y++)
                for (int x = 0; x < m.Width; x++)
                {
                    if (!On(x, y)) continue;
                    pixels++;
                    if (interior && !(On(x - 1, y) && On(x + 1, y) && On(x, y - 1) && On(x, y + 1))) continue;
                    judged++;
                    if (ColourAtCentre(s.Image, x, y, r, colour)) match++;
                }
            yield return (k, pixels, judged == 0 ? 1 : (double)match / judged);
        }
    }

    static string Dump(Sample s, int k)
    {
        var m = s.Masks!; int r = s.Image.Width / m.Width;
        var colour = DataFixtures.ClassColors[(int)s.Cls[k]];
        var sb = new System.Text.StringBuilder();
        for (int y = 0; y < m.Height; y++)
        {
            for (int x = 0; x < m.Width; x++)
            {
                bool on = m.Overlap ? m.Index![y * m.Width + x] == k + 1 : m.Binary![(k * m.Height + y) * m.Width + x] == 1;
                bool c = ColourAtCentre(s.Image, x, y, r, colour);
                sb.Append(on ? (c ? '#' : 'o') : (c ? '+' : '.'));
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    [Fact]
    public void Letterboxed_masks_cover_exactly_their_rectangles()
    {
        var ds = Dataset(augment: false, overlap: true);
        for (int i = 0; i < ds.Count; i++)
        {
            var s = ds.Load(i, 0);
            Assert.Equal((32, 32), (s.Masks!.Width, s.Masks.Height));
            foreach (var (k, pixels, match) in MaskColourAgreement(s))
            {
                float w = s.Boxes[4 * k + 2] * 32, h = s.Boxes[4 * k + 3] * 32;
                Assert.InRange(pixels, (w - 1) * (h - 1), (w + 1) * (h + 1));
                Assert.True(match == 1, $"image {i} object {k}: {match:P0} of its {pixels} mask pixels have its colour\n{Dump(s, k)}");
            }
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Augmented_masks_follow_their_objects_through_mosaic_rotation_and_flips(bool overlap)
    {
        var hyp = new AugmentationOptions { Mosaic = 1, Degrees = 25, Shear = 5, FlipLR = 0.5, FlipUD = 0.5, HsvH = 0, HsvS = 0, HsvV = 0 };
        var ds = Dataset(augment: true, overlap, hyp);
        int objects = 0;
        for (int epoch = 0; epoch < 2; epoch++)
            for (int i = 0; i < ds.Count; i++)
            {
                var s = ds.Load(i, epoch);
                Assert.Equal(s.Count, s.Segments!.Length);
                if (overlap && s.Count > 1)
                {
                    var areas = MaskColourAgreement(s).Select(a => a.Pixels).ToArray();
                    // Numbered by area, largest first (an object's visible pixels can only be fewer than its area).
                    Assert.True(areas[0] >= areas[^1] || areas[^1] < 4, $"sample {i}: areas {string.Join(", ", areas)}");
                }
                foreach (var (k, pixels, match) in MaskColourAgreement(s, interior: true))
                {
                    float bw = s.Boxes[4 * k + 2] * 32, bh = s.Boxes[4 * k + 3] * 32;
                    if (bw < 3 || bh < 3) continue; // slivers at the crop edge: too few pixels to judge
                    objects++;
                    Assert.True(pixels > 0, $"sample {i} epoch {epoch}: object {k} ({bw:0.0}×{bh:0.0} mask px box) has an empty mask");
                    Assert.True(match > 0.97, $"sample {i} epoch {epoch}: only {match:P0} of object {k}'s inner mask pixels have its colour\n{Dump(s, k)}");
                }
            }
        Assert.True(objects > 20, $"only {objects} objects checked");
    }

    [Fact]
    public void A_batch_carries_the_masks_in_the_losss_layout()
    {
        var ds = Dataset(augment: false, overlap: true);
        var samples = Enumerable.Range(0, 3).Select(i => ds.Load(i, 0)).ToList();
        // rect is off here, so every letterboxed sample is 128×128
        using var b = Batch.Collate(samples);
        Assert.Equal(new long[] { 3, 32, 32 }, b.Masks!.shape);
        Assert.Equal(samples.Sum(s => s.Count), b.Segments!.Length);
        Assert.Equal(samples[1].Count, b.Masks[1].max().item<int>());

        var planes = Dataset(augment: false, overlap: false);
        var ps = Enumerable.Range(0, 3).Select(i => planes.Load(i, 0)).ToList();
        using var pb = Batch.Collate(ps);
        Assert.Equal(new long[] { ps.Sum(s => s.Count), 32, 32 }, pb.Masks!.shape);
        Assert.Equal(TorchSharp.torch.ScalarType.Byte, pb.Masks.dtype);
    }
}
