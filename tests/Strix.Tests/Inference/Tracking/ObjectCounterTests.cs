using Strix.Inference.Solutions;

namespace Strix.Tests.Inference.Tracking;

public class ObjectCounterTests
{
    static readonly string[] Names = { "a", "b" };

    [Fact]
    public void A_line_counts_each_track_once_and_only_through_the_segment()
    {
        // Vertical line x = 100 from y = 0 down to y = 100: moving right is "in" (Ultralytics' rule).
        var c = new ObjectCounter(new[] { (100.0, 0.0), (100.0, 100.0) });
        c.Update(new[] { (1, 0, 90.0, 50.0), (2, 1, 110.0, 50.0), (3, 0, 90.0, 150.0) });
        var events = c.Update(new[] { (1, 0, 105.0, 52.0), (2, 1, 95.0, 50.0), (3, 0, 110.0, 150.0) });
        Assert.Equal(new[] { (1, true), (2, false) }, events);   // track 3 passed below the segment's end
        Assert.Empty(c.Update(new[] { (1, 0, 95.0, 52.0) }));    // back out: a track counts once
        Assert.Empty(c.Update(new[] { (1, 0, 105.0, 52.0) }));
        Assert.Equal(new[] { new ClassCount(0, "a", 1, 0), new ClassCount(1, "b", 0, 1) }, c.Counts(Names));
        Assert.Equal((1, 1), (c.InCount, c.OutCount));
    }

    [Fact]
    public void Tracks_unseen_for_long_are_forgotten_but_counts_stay()
    {
        var c = new ObjectCounter(new[] { (100.0, 0.0), (100.0, 100.0) }) { ForgetAfterFrames = 10 };
        c.Update(new[] { (1, 0, 90.0, 50.0), (2, 0, 90.0, 60.0) });
        Assert.Single(c.Update(new[] { (1, 0, 110.0, 50.0), (2, 0, 95.0, 60.0) }));
        // Track 2 stays in view; track 1 has left for good. After the next prune only track 2 is remembered.
        for (int f = 0; f < 70; f++) c.Update(new[] { (2, 0, 95.0, 60.0) });
        Assert.Equal(1, c.Remembered);
        Assert.Equal((1, 0), (c.InCount, c.OutCount));
        Assert.Single(c.Update(new[] { (2, 0, 105.0, 60.0) }));  // the remembered track still counts when it crosses
    }

    [Theory]
    [InlineData(0.0, 50.0, 100.0, 50.0)]   // horizontal, drawn left → right
    [InlineData(100.0, 50.0, 0.0, 50.0)]   // the same line drawn right → left
    public void Over_a_horizontal_line_moving_down_is_in_whichever_way_it_was_drawn(double x1, double y1, double x2, double y2)
    {
        var down = new ObjectCounter(new[] { (x1, y1), (x2, y2) });
        down.Update(new[] { (1, 0, 50.0, 40.0) });
        Assert.Equal(new[] { (1, true) }, down.Update(new[] { (1, 0, 50.0, 60.0) }));
        var up = new ObjectCounter(new[] { (x1, y1), (x2, y2) });
        up.Update(new[] { (1, 0, 50.0, 60.0) });
        Assert.Equal(new[] { (1, false) }, up.Update(new[] { (1, 0, 50.0, 40.0) }));
    }

    [Fact]
    public void A_point_exactly_on_the_line_waits_for_the_side_it_ends_on()
    {
        var c = new ObjectCounter(new[] { (0.0, 50.0), (100.0, 50.0) });
        c.Update(new[] { (1, 0, 50.0, 40.0) });
        Assert.Empty(c.Update(new[] { (1, 0, 50.0, 50.0) }));
        // …and counts once it is off the line on the other side (40 → 50 → 60: down, i.e. "in").
        Assert.Equal(new[] { (1, true) }, c.Update(new[] { (1, 0, 50.0, 60.0) }));
        // On the line and back to where it came from: no crossing.
        var d = new ObjectCounter(new[] { (0.0, 50.0), (100.0, 50.0) });
        d.Update(new[] { (1, 0, 50.0, 40.0) });
        d.Update(new[] { (1, 0, 50.0, 50.0) });
        Assert.Empty(d.Update(new[] { (1, 0, 50.0, 45.0) }));
    }

    [Fact]
    public void A_zone_counts_entries_and_exits()
    {
        var c = new ObjectCounter(new[] { (0.0, 0.0), (100.0, 0.0), (100.0, 100.0), (0.0, 100.0) });
        c.Update(new[] { (1, 0, -10.0, 50.0), (2, 0, 50.0, 50.0) });
        Assert.Equal(new[] { (1, true), (2, false) }, c.Update(new[] { (1, 0, 10.0, 50.0), (2, 0, 150.0, 50.0) }));
        Assert.Equal((1, 1), (c.InCount, c.OutCount));
    }

    [Fact]
    public void Regions_parse_from_the_command_line_and_bad_ones_name_the_argument()
    {
        Assert.Equal(new[] { (1.0, 2.0), (3.0, 4.0) }, ObjectCounter.ParseRegion("1,2,3,4"));
        Assert.Equal(3, ObjectCounter.ParseRegion("[(0,0),(10,0),(5,8)]").Count);
        Assert.StartsWith("region=1,2,3:", Assert.Throws<ArgumentException>(() => ObjectCounter.ParseRegion("1,2,3")).Message);
        Assert.Contains("'x' is not a number", Assert.Throws<ArgumentException>(() => ObjectCounter.ParseRegion("1,2,x,4")).Message);
        Assert.Throws<ArgumentException>(() => new ObjectCounter(new[] { (1.0, 1.0), (1.0, 1.0) }));
    }
}
