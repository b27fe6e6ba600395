using Strix.Data;
using Strix.Inference;
using Strix.Inference.Tracking;

namespace Strix.Tests.Inference.Tracking;

public class ResultsTrackerTests
{
    static readonly string[] Names = { "part", "scratch" };

    static Results Frame(int f, params (float X, float Score, int Cls)[] dets) =>
        new Results("clip.mp4", 100, 200, Names, dets.Select(d => new Detection(new BoundingBox(d.X, 40, d.X + 20, 60), d.Score, d.Cls, Names[d.Cls])).ToList(),
            default, RgbImage.Filled(200, 100, 30, 30, 30)).AtFrame(f, TimeSpan.FromMilliseconds(40 * f), 25);

    [Fact]
    public void Results_come_back_with_ids_trails_and_frame_data_and_labels_carry_the_id()
    {
        var t = new ResultsTracker(new ByteTracker(), trailLength: 3);
        Results last = null!;
        for (int f = 0; f < 6; f++) last = t.Track(Frame(f, (10 + 5 * f, 0.9f, 0), (150, 0.8f, 1)));
        Assert.Equal(new[] { 1, 2 }, last.Ids!.OrderBy(i => i));
        Assert.Equal(5, last.FrameIndex);
        Assert.Equal(25, last.FrameRate);
        Assert.Equal(3, t.Trails[1].Count);
        Assert.Equal(last.Detections.Single(d => d.TrackId == 1).Box.CenterX, t.Trails[1][^1].X, 3);
        var line = last.ToTxt().Split('\n').First(l => l.StartsWith("0 "));
        Assert.EndsWith(" 1", line);
        var drawn = t.Plot(last, new[] { "in 0, out 0" }, new[] { (100.0, 0.0), (100.0, 100.0) });
        Assert.Equal((200, 100), (drawn.Width, drawn.Height));
        Assert.NotEqual(last.OrigImage!.Pixels, drawn.Pixels);
        // A track that disappears loses its trail; Reset restarts the ids.
        t.Track(Frame(6, (150, 0.8f, 1)));
        t.Reset();
        Assert.Empty(t.Trails);
        Assert.Null(t.Track(Frame(0)).Ids);
    }

    [Fact]
    public void A_segmentation_model_s_masks_follow_their_tracked_detections()
    {
        // Three detections with masks 1, 2, 3 (each mask's pixels hold its number); the lowest-score one is below the
        // tracker's thresholds and is left out, so the tracked results keep masks 1 and 2, ordered as their detections.
        Results WithMasks(int f)
        {
            var r = Frame(f, (150, 0.7f, 1), (10, 0.9f, 0), (80, 0.05f, 0));
            var data = new byte[3 * 100 * 200];
            for (int k = 0; k < 3; k++) data.AsSpan(k * 20000, 20000).Fill((byte)(k + 1));
            return r.WithDetections(r.Detections, new SegmentMasks(3, 100, 200, data));
        }
        var t = new ResultsTracker(new ByteTracker());
        var tracked = t.Track(WithMasks(0));
        Assert.Equal(2, tracked.Detections.Count);
        Assert.Equal(new[] { 0, 1 }, tracked.Cls);             // by confidence: the 0.9 "part", then the 0.7 "scratch"
        Assert.Equal(2, tracked.Masks!.Count);
        Assert.Equal(new byte[] { 2, 1 }, new[] { tracked.Masks[0][0], tracked.Masks[1][0] });
    }

    [Fact]
    public void Keypoints_and_rotated_boxes_follow_their_tracked_detections_too()
    {
        // The same three detections, each with one keypoint at x = its number and a rotated box of width = its number.
        var r = Frame(0, (150, 0.7f, 1), (10, 0.9f, 0), (80, 0.05f, 0));
        var kp = new PoseKeypoints(3, 1, new float[] { 1, 0, 1, 2, 0, 1, 3, 0, 1 });
        var obbs = new[] { new OrientedBox(0, 0, 1, 1, 0), new OrientedBox(0, 0, 2, 1, 0), new OrientedBox(0, 0, 3, 1, 0) };
        var tracked = new ResultsTracker(new ByteTracker()).Track(r.WithDetections(r.Detections, keypoints: kp, orientedBoxes: obbs));
        Assert.Equal(new[] { 2f, 1f }, new[] { tracked.Keypoints![0][0].X, tracked.Keypoints[1][0].X });
        Assert.Equal(new[] { 2f, 1f }, tracked.OrientedBoxes!.Select(b => b.Width));
        Assert.Throws<ArgumentException>(() => r.WithDetections(r.Detections, keypoints: new PoseKeypoints(1, 1, new float[3])));
    }

    [Fact]
    public void A_new_source_restarts_the_ids_unless_persist()
    {
        Results Other(Results r) => new Results("other.mp4", r.OrigHeight, r.OrigWidth, Names, r.Detections, default, r.OrigImage).AtFrame(0, TimeSpan.Zero, 25);
        foreach (var persist in new[] { false, true })
        {
            var t = new ResultsTracker(new ByteTracker()) { Persist = persist };
            t.Track(Frame(0, (10, 0.9f, 0), (150, 0.8f, 1)));
            // Frame 1 of a new video; born on its first frame, the tracks are reported at once when the tracker restarted.
            var r = t.Track(Other(Frame(0, (60, 0.9f, 0)))).Ids;
            if (persist) Assert.Null(r);                 // carried-over tracker: a newcomer waits for confirmation
            else Assert.Equal(new[] { 1 }, r);
        }
    }

    [Fact]
    public void A_crop_is_the_box_enlarged_as_ultralytics_and_clipped_to_the_image()
    {
        var img = new RgbImage(50, 40, Enumerable.Range(0, 50 * 40 * 3).Select(i => (byte)(i % 251)).ToArray());
        var r = new Results("a.jpg", 40, 50, Names, new[] { new Detection(new BoundingBox(10, 10, 30, 20), 0.9f, 0, "part") }, default, img);
        var c = r.Crop(r.Detections[0]);
        // 20×10 → 30.4×20.2 around (20, 15): x 4.8 → 35.2, y 4.9 → 25.1 (truncated to pixels 4…35, 4…25).
        Assert.Equal((31, 21), (c.Width, c.Height));
        Assert.Equal(img.Pixels[(4 * 50 + 4) * 3], c.Pixels[0]);
        var edge = new Results("a.jpg", 40, 50, Names, new[] { new Detection(new BoundingBox(0, 0, 50, 40), 0.9f, 0, "part") }, default, img);
        Assert.Equal((50, 40), (edge.Crop(edge.Detections[0]).Width, edge.Crop(edge.Detections[0]).Height));
    }
}
