using Strix.Inference.Tracking;

namespace Strix.Tests.Inference.Tracking;

public class TrackerConfigTests
{
    [Fact]
    public void Built_in_names_resolve_and_defaults_are_ultralytics_bytetrack()
    {
        var b = TrackerConfig.Load("bytetrack.yaml");
        Assert.Equal(("bytetrack", 0.25, 0.1, 0.25, 30, 0.8, true), (b.TrackerType, b.TrackHighThresh, b.TrackLowThresh, b.NewTrackThresh, b.TrackBuffer, b.MatchThresh, b.FuseScore));
        Assert.Equal("botsort", TrackerConfig.Load("botsort").TrackerType);
        Assert.Throws<FileNotFoundException>(() => TrackerConfig.Load("deepsort.yaml"));
    }

    [Fact]
    public void A_user_file_is_read_and_bad_settings_name_file_and_line()
    {
        var c = TrackerConfig.Parse("tracker_type: botsort\ntrack_high_thresh: 0.5\ntrack_buffer: 60\nfuse_score: False\ngmc_method: sparseOptFlow\nwith_reid: False\n", "my.yaml");
        Assert.Equal(("botsort", 0.5, 60, false, "sparseOptFlow"), (c.TrackerType, c.TrackHighThresh, c.TrackBuffer, c.FuseScore, c.GmcMethod));
        var e = Assert.Throws<InvalidDataException>(() => TrackerConfig.Parse("tracker_type: bytetrack\ntrack_hi_thresh: 0.5\n", "my.yaml"));
        Assert.StartsWith("my.yaml:2: unknown tracker setting 'track_hi_thresh'", e.Message);
        e = Assert.Throws<InvalidDataException>(() => TrackerConfig.Parse("match_thresh: 1.5\n", "t.yaml"));
        Assert.StartsWith("t.yaml:1: match_thresh=1.5: expected a number in [0, 1]", e.Message);
        e = Assert.Throws<InvalidDataException>(() => TrackerConfig.Parse("tracker_type: [bytetrack\n", "t.yaml"));
        Assert.StartsWith("t.yaml:", e.Message);
        Assert.Throws<InvalidDataException>(() => TrackerConfig.Parse("track_low_thresh: 0.6\ntrack_high_thresh: 0.5\n", "t.yaml"));
        Assert.Throws<NotSupportedException>(() => TrackerConfig.Parse("with_reid: true\n", "t.yaml"));
    }
}
