using Strix.Data;
using Strix.Inference;
using Strix.Tasks.Segment;
using static TorchSharp.torch;

namespace Strix.Tests.Tasks.Segment;

/// <summary>Prediction masks from hand-built outputs: bitmaps at the original size, outlines, label lines and drawing.</summary>
public class SegmentationPostprocessorTests
{
    static readonly string[] Names = { "a", "b" };

    // A 32×32 input (prototypes 8×8 at stride 4) of a 64×64 original at ratio ½: object 0 (class a) is the top half,
    // prototype rows 0–3, object 1 (class b) the bottom half, rows 4–7. Full-width bands upsample exactly (bilinear
    // resampling only rounds corners), so in original pixels they are rows 0–31 and 32–63.
    static ImagePredictions Predict()
    {
        using var preds = tensor(new float[]
        {
            16, 16,  8, 24,  32, 32,  16, 16, // x, y, w, h in input pixels
            0.9f, 0,  0, 0.8f,               // class scores
            1, 0,  0, 1,                     // mask coefficients
        }, new long[] { 1, 8, 2 });
        using var protos = full(new long[] { 1, 2, 8, 8 }, -20f);
        protos[0, 0, ..4, ..] = tensor(20f);
        protos[0, 1, 4.., ..] = tensor(20f);
        var post = new SegmentationPostprocessor(new PredictOptions());
        return post.Postprocess(new[] { preds, protos }, new[] { new InputFrame(0.5, 0.5, 0, 0, 64, 64) }, Names).Single();
    }

    [Fact]
    public void Masks_are_bitmaps_of_the_original_image_in_detection_order()
    {
        var p = Predict();
        Assert.Equal(new[] { 0, 1 }, p.Detections.Select(d => d.ClassId));
        var m = p.Masks!;
        Assert.Equal((2, 64, 64), (m.Count, m.Height, m.Width));
        Assert.Equal(32 * 64, m.Area(0));
        Assert.Equal(32 * 64, m.Area(1));
        Assert.Equal(1, m[0][31 * 64 + 63]);
        Assert.Equal(0, m[0][32 * 64]);
        Assert.Equal(new float[] { 0, 0, 64, 0, 64, 32, 0, 32 }, m.Polygon(0));
        Assert.Equal(new float[] { 0, 32, 64, 32, 64, 64, 0, 64 }, m.Polygon(1));
        Assert.Equal(new float[] { 0, 0.5f, 1, 0.5f, 1, 1, 0, 1 }, m.XyN[1]);
        // The one buffer holds both masks, the first then the second.
        Assert.Equal(2 * 64 * 64, m.Data.Length);
    }

    [Fact]
    public void Save_txt_writes_the_outlines_in_the_label_format_and_they_read_back_as_segments()
    {
        var p = Predict();
        var r = new Results("x.jpg", 64, 64, Names, p.Detections, default) { Masks = p.Masks };
        var txt = r.ToTxt();
        Assert.Equal("0 0 0 1 0 1 0.5 0 0.5\n1 0 0.5 1 0.5 1 1 0 1\n", txt);
        var dir = TestPaths.NewTempDir();
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "images"));
            Directory.CreateDirectory(Path.Combine(dir, "labels"));
            var image = Path.Combine(dir, "images", "x.jpg");
            ImageIO.Save(RgbImage.Filled(64, 64, 90, 90, 90), image);
            File.WriteAllText(Path.Combine(dir, "labels", "x.txt"), txt);
            var labels = LabelChecker.Check(image, Names.Length);
            Assert.Equal(ImageStatus.Labelled, labels.Status);
            Assert.Equal(2, labels.Segments!.Length);
            Assert.Equal(new float[] { 0, 0, 1, 0, 1, 0.5f, 0, 0.5f }, labels.Segments[0]);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Plotting_tints_the_masks_in_class_colours()
    {
        var p = Predict();
        var image = RgbImage.Filled(64, 64, 0, 0, 0);
        var r = new Results("x.jpg", 64, 64, Names, p.Detections, default, image) { Masks = p.Masks };
        var drawn = r.Plot(labels: false);
        (byte, byte, byte) At(int x, int y) => (drawn.Pixels[(y * 64 + x) * 3], drawn.Pixels[(y * 64 + x) * 3 + 1], drawn.Pixels[(y * 64 + x) * 3 + 2]);
        // Half of each class colour over black, away from the box outlines.
        var a = Strix.Plotting.Annotator.ColorFor(0);
        var b = Strix.Plotting.Annotator.ColorFor(1);
        Assert.Equal(((byte)(a.Red / 2f + 0.5f), (byte)(a.Green / 2f + 0.5f), (byte)(a.Blue / 2f + 0.5f)), At(30, 16));
        Assert.Equal(((byte)(b.Red / 2f + 0.5f), (byte)(b.Green / 2f + 0.5f), (byte)(b.Blue / 2f + 0.5f)), At(30, 48));
        Assert.True(image.Pixels.All(v => v == 0), "the original image is not drawn on");
    }

    [Fact]
    public void Detections_replaced_without_their_masks_drop_them()
    {
        var p = Predict();
        var r = new Results("x.jpg", 64, 64, Names, p.Detections, default) { Masks = p.Masks };
        Assert.Null(r.WithDetections(p.Detections.Take(1).ToList()).Masks);
        var kept = r.WithDetections(new[] { p.Detections[1] }, p.Masks!.Select(new[] { 1 }));
        Assert.Equal(new float[] { 0, 32, 64, 32, 64, 64, 0, 64 }, kept.Masks!.Polygon(0));
        Assert.Throws<ArgumentException>(() => r.WithDetections(p.Detections, p.Masks.Select(new[] { 1 })));
    }
}
