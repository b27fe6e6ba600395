using Strix.Data;
using Strix.Eval;

namespace Strix.Tests.Data;

/// <summary>Oriented boxes from points (minAreaRect) and the built-in shapes-obb labels.</summary>
public class ObbDataTests
{
    static float[] Rect(float cx, float cy, float w, float h, float a) => Polygons.RectCorners(cx, cy, w, h, a);

    [Fact]
    public void The_smallest_rectangle_of_a_rotated_rectangle_is_that_rectangle_in_regular_form()
    {
        var (cx, cy, w, h, a) = Polygons.MinAreaRect(Rect(50, 40, 30, 10, MathF.PI / 6));
        Assert.Equal((50f, 40f, 30f, 10f), (MathF.Round(cx, 3), MathF.Round(cy, 3), MathF.Round(w, 3), MathF.Round(h, 3)));
        Assert.Equal(MathF.PI / 6, a, 4);
        // A tall box (w < h) turns by π/2 into the regular form; an angle past π wraps.
        var tall = Polygons.MinAreaRect(Rect(0, 0, 4, 12, 0.2f));
        Assert.Equal((12f, 4f), (MathF.Round(tall.W, 3), MathF.Round(tall.H, 3)));
        Assert.Equal(0.2f + MathF.PI / 2, tall.Angle, 4);
        var axis = Polygons.MinAreaRect(new float[] { 0, 0, 10, 0, 10, 5, 0, 5, 3, 2 }); // an inner point changes nothing
        Assert.Equal((5f, 2.5f, 10f, 5f, 0f), (axis.Cx, axis.Cy, axis.W, axis.H, axis.Angle));
        Assert.Equal(RotatedBoxes.MinAreaRect(Rect(1, 2, 3, 2, 1)), Polygons.MinAreaRect(Rect(1, 2, 3, 2, 1)));
    }

    [Fact]
    public void Shapes_obb_labels_are_four_corner_rows_whose_rectangle_holds_the_shape()
    {
        var root = Path.Combine(TestPaths.NewTempDir("shapes-obb"), "shapes-obb");
        Strix.IO.AtomicFolder.Ensure(root, "data.yaml", tmp => ShapesObb.Generate(tmp, trainScenes: 4, valScenes: 1));
        var cfg = DatasetConfig.Load(Path.Combine(root, "data.yaml"));
        var scan = LabelScan.Run(cfg.Train, cfg.Names.Length);
        Assert.Equal(0, scan.Corrupt);
        Assert.All(scan.Valid.Where(l => l.Count > 0), l => Assert.All(l.Segments!, s => Assert.Equal(8, s.Length)));
        // The rows of scene 0 against its outlines: every outline point lies inside its row's rectangle (1 px of slack).
        var (jpeg, outlines) = ShapesDataset.RenderScene(0, 0, 0, 320, segments: true, elongate: true);
        var img = ImageIO.Decode(jpeg);
        var rows = File.ReadAllLines(Path.Combine(root, "labels", "train", "train_00000.txt"));
        var polys = outlines.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(polys.Length, rows.Length);
        for (int r = 0; r < rows.Length; r++)
        {
            var c = rows[r].Split(' ').Skip(1).Select(t => float.Parse(t, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            var corners = new float[8];
            for (int k = 0; k < 8; k += 2) { corners[k] = c[k] * img.Width; corners[k + 1] = c[k + 1] * img.Height; }
            var (cx, cy, w, h, a) = Polygons.MinAreaRect(corners);
            var pts = polys[r].Split(' ').Skip(1).Select(t => float.Parse(t, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
            for (int i = 0; i < pts.Length; i += 2)
            {
                float dx = pts[i] * img.Width - cx, dy = pts[i + 1] * img.Height - cy;
                float u = dx * MathF.Cos(a) + dy * MathF.Sin(a), v = -dx * MathF.Sin(a) + dy * MathF.Cos(a);
                Assert.True(MathF.Abs(u) <= w / 2 + 1 && MathF.Abs(v) <= h / 2 + 1, $"row {r}: outline point outside its box");
            }
        }
    }
}
