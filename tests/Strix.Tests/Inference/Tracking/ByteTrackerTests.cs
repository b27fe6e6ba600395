using Strix.Inference;
using Strix.Inference.Tracking;

namespace Strix.Tests.Inference.Tracking;

public class ByteTrackerTests
{
    static Detection Det(float cx, float cy, float score = 0.9f, int cls = 0, float size = 40) =>
        new(new BoundingBox(cx - size / 2, cy - size / 2, cx + size / 2, cy + size / 2), score, cls, $"c{cls}");

    [Fact]
    public void Two_objects_keep_their_ids_through_jitter()
    {
        var t = new ByteTracker();
        var rng = new Random(1);
        float J() => (float)(rng.NextDouble() - 0.5) * 4;
        var idsA = new HashSet<int>();
        var idsB = new HashSet<int>();
        for (int f = 0; f < 60; f++)
        {
            var dets = new[] { Det(50 + 2 * f + J(), 100 + J()), Det(300 - 2 * f + J(), 250 + J(), cls: 1) };
            var outs = t.Update(dets);
            Assert.Equal(2, outs.Count);
            idsA.Add(outs.Single(o => o.DetectionIndex == 0).TrackId);
            idsB.Add(outs.Single(o => o.DetectionIndex == 1).TrackId);
        }
        Assert.Equal(new[] { 1 }, idsA);
        Assert.Equal(new[] { 2 }, idsB);
        Assert.Single(t.Update(new[] { Det(50 + 120, 100) }));
    }

    [Fact]
    public void A_track_born_after_the_first_frame_is_reported_from_its_second_match()
    {
        var t = new ByteTracker();
        Assert.Single(t.Update(new[] { Det(50, 50) }));             // frame 1: confirmed at once
        var second = t.Update(new[] { Det(52, 50), Det(300, 300) });
        Assert.Single(second);                                       // the newcomer waits for confirmation
        var third = t.Update(new[] { Det(54, 50), Det(302, 300) });
        Assert.Equal(new[] { 1, 2 }, third.Select(o => o.TrackId).OrderBy(i => i));
        // An unconfirmed track that misses its second frame is dropped: the id is not reused for it.
        t.Update(new[] { Det(56, 50), Det(304, 300), Det(150, 400) });
        t.Update(new[] { Det(58, 50), Det(306, 300) });
        var later = t.Update(new[] { Det(60, 50), Det(308, 300), Det(150, 400) });
        Assert.Equal(new[] { 1, 2 }, later.Select(o => o.TrackId).OrderBy(i => i));
        // Confirmed on its second frame, the newcomer gets a fresh id: 3 went to the dropped one (ids are taken at birth, as Ultralytics).
        var confirmed = t.Update(new[] { Det(62, 50), Det(310, 300), Det(152, 400) });
        Assert.Equal(new[] { 1, 2, 4 }, confirmed.Select(o => o.TrackId).OrderBy(i => i));
    }

    [Fact]
    public void An_object_hidden_for_less_than_the_buffer_comes_back_with_its_id_and_later_it_does_not()
    {
        var t = new ByteTracker(TrackerConfig.ByteTrack with { TrackBuffer = 30 });
        for (int f = 0; f < 10; f++) t.Update(new[] { Det(100 + 3 * f, 100) });
        for (int f = 10; f < 25; f++) Assert.Empty(t.Update(Array.Empty<Detection>()));
        // Back near where its velocity puts it: same id.
        var back = t.Update(new[] { Det(100 + 3 * 25, 100) });
        Assert.Equal(1, Assert.Single(back).TrackId);

        // Gone for longer than the buffer: a new object (a new id, confirmed on its second match).
        for (int f = 26; f < 26 + 32; f++) t.Update(Array.Empty<Detection>());
        Assert.Empty(t.Update(new[] { Det(400, 300) }));
        Assert.Equal(2, Assert.Single(t.Update(new[] { Det(401, 300) })).TrackId);
        Assert.DoesNotContain(t.Tracks, tr => tr.Id == 1);
    }

    [Fact]
    public void Low_score_detections_keep_a_tracked_object_alive_but_never_start_a_track()
    {
        var t = new ByteTracker();
        for (int f = 0; f < 5; f++) t.Update(new[] { Det(100 + 2 * f, 100) });
        for (int f = 5; f < 15; f++)
        {
            // The object is partly hidden (score 0.15 < track_high_thresh 0.25); a stray low score elsewhere.
            var outs = t.Update(new[] { Det(100 + 2 * f, 100, score: 0.15f), Det(400, 400, score: 0.2f) });
            var o = Assert.Single(outs);
            Assert.Equal(1, o.TrackId);
            Assert.Equal(0, o.DetectionIndex);
            Assert.Equal(0.15f, o.Confidence);
        }
        // Below track_low_thresh (0.1) the detection is ignored: the track is lost, not fed.
        Assert.Empty(t.Update(new[] { Det(130, 100, score: 0.05f) }));
    }

    [Fact]
    public void Reset_forgets_tracks_and_ids_start_from_one()
    {
        var t = new ByteTracker();
        t.Update(new[] { Det(10, 10), Det(200, 200) });
        t.Reset();
        Assert.Equal(0, t.FrameCount);
        Assert.Equal(1, Assert.Single(t.Update(new[] { Det(200, 200) })).TrackId);
    }

    [Fact]
    public void Botsort_tracks_the_same_scene_with_its_own_state_form()
    {
        var t = new ByteTracker(TrackerConfig.BotSort);
        for (int f = 0; f < 20; f++)
        {
            var outs = t.Update(new[] { Det(50 + 4 * f, 80), Det(300 - 4 * f, 80 + 60) });
            Assert.Equal(new[] { 1, 2 }, outs.OrderBy(o => o.DetectionIndex).Select(o => o.TrackId));
        }
        var warnings = new List<string>();
        _ = new ByteTracker(TrackerConfig.BotSort with { GmcMethod = "none" }, warn: warnings.Add);
        Assert.Empty(warnings);
    }
}
