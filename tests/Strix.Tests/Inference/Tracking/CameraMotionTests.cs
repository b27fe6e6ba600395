using Strix.Data;
using Strix.Inference;
using Strix.Inference.Tracking;

namespace Strix.Tests.Inference.Tracking;

/// <summary>BoT-SORT's camera-motion compensation: the estimate, and what it saves a tracker when the camera jumps.</summary>
public class CameraMotionTests
{
    // A textured "world" (the clip's background and shapes) seen through a 320×240 window at (ox, oy).
    static readonly RgbImage World = RenderWorld();

    static RgbImage RenderWorld()
    {
        using var clip = new ShapesClip(new ShapesClipOptions { Width = 480, Height = 360, Seed = 3 });
        return clip.Render(30);
    }

    static RgbImage View(int ox, int oy)
    {
        const int w = 320, h = 240;
        var px = new byte[w * h * 3];
        for (int y = 0; y < h; y++) Buffer.BlockCopy(World.Pixels, ((y + oy) * World.Width + ox) * 3, px, y * w * 3, w * 3);
        return new RgbImage(w, h, px);
    }

    [SkippableFact]
    public void A_pure_camera_pan_is_estimated_to_a_fraction_of_a_pixel()
    {
        Requires.Video();
        using var gmc = new CameraMotion();
        Assert.Equal(CameraMotion.Identity, gmc.Estimate(View(40, 40)));
        // The camera moves right 6 and up 4: the scene moves left 6 and down 4 in the image.
        var h = gmc.Estimate(View(46, 36));
        Assert.Equal(-6, h[0, 2], 0.5);
        Assert.Equal(4, h[1, 2], 0.5);
        Assert.Equal(1, h[0, 0], 0.01);
        Assert.Equal(0, h[0, 1], 0.01);
        gmc.Reset();
        Assert.Equal(CameraMotion.Identity, gmc.Estimate(View(46, 36)));
    }

    [Fact]
    public void Moving_a_state_by_the_camera_turns_every_pair_and_shifts_the_centre()
    {
        var kf = new KalmanBoxFilter(BoxStateForm.Xywh);
        var s = kf.Initiate(new[] { 10.0, 20, 4, 8 });
        s.Mean[4] = 1; s.Mean[5] = 2;
        // A quarter turn and a shift of (5, -3): (x, y) → (−y + 5, x − 3).
        KalmanBoxFilter.ApplyCameraMotion(s, new double[,] { { 0, -1, 5 }, { 1, 0, -3 } });
        Assert.Equal(new[] { -15.0, 7, -8, 4, -2, 1, 0, 0 }, s.Mean);
        // Variances of x and y swap under a quarter turn; the covariance stays symmetric.
        var before = kf.Initiate(new[] { 10.0, 20, 4, 8 }).Covariance;
        Assert.Equal(before[1, 1], s.Covariance[0, 0], 9);
        Assert.Equal(before[0, 0], s.Covariance[1, 1], 9);
        for (int i = 0; i < 8; i++) for (int j = 0; j < 8; j++) Assert.Equal(s.Covariance[i, j], s.Covariance[j, i], 9);
    }

    [SkippableFact]
    public void When_the_camera_jumps_compensation_keeps_the_ids_that_plain_motion_loses()
    {
        Requires.Video();
        // Three objects still in the world; the camera jumps by (30, 20) px at frame 10.
        var worldBoxes = new[] { (150f, 150f), (250f, 200f), (350f, 170f) };
        int Switches(TrackerConfig cfg)
        {
            var t = new ResultsTracker(new ByteTracker(cfg));
            var ids = new HashSet<int>();
            for (int f = 0; f < 20; f++)
            {
                var (ox, oy) = f < 10 ? (60, 40) : (90, 60);
                var dets = worldBoxes.Select((b, i) => new Detection(new BoundingBox(b.Item1 - ox - 20, b.Item2 - oy - 20, b.Item1 - ox + 20, b.Item2 - oy + 20), 0.9f, i, $"c{i}")).ToList();
                var r = t.Track(new Results(null, 240, 320, new[] { "c0", "c1", "c2" }, dets, default, View(ox, oy)));
                foreach (var id in r.Ids ?? Array.Empty<int>()) ids.Add(id);
            }
            return ids.Count - worldBoxes.Length;
        }
        Assert.True(new ByteTracker(TrackerConfig.BotSort).CompensatesCameraMotion);
        Assert.False(new ByteTracker(TrackerConfig.BotSort with { GmcMethod = "none" }).CompensatesCameraMotion);
        Assert.False(new ByteTracker(TrackerConfig.ByteTrack).CompensatesCameraMotion);
        Assert.Equal(0, Switches(TrackerConfig.BotSort));
        Assert.Equal(3, Switches(TrackerConfig.BotSort with { GmcMethod = "none" }));
    }
}
