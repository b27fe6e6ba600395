using Strix.Inference;
using Strix.Inference.Tracking;

namespace Strix.Tests.Inference.Tracking;

public class KalmanBoxFilterTests
{
    [Fact]
    public void Initiate_predict_and_update_equal_the_hand_computed_values()
    {
        var kf = new KalmanBoxFilter(BoxStateForm.Xyah);
        // Box centred at (100, 200), 50 wide, 100 high: z = (100, 200, 0.5, 100).
        var z = kf.Measure(new BoundingBox(75, 150, 125, 250));
        Assert.Equal(new[] { 100.0, 200, 0.5, 100 }, z);
        var s = kf.Initiate(z);
        Assert.Equal(new[] { 100.0, 200, 0.5, 100, 0, 0, 0, 0 }, s.Mean);
        // σ_pos·h = 5, σ_vel·h = 0.625: initial std (2·5, 2·5, 0.01, 2·5, 10·0.625, …, 1e-5, …).
        Assert.Equal(100, s.Covariance[0, 0], 9);
        Assert.Equal(1e-4, s.Covariance[2, 2], 12);
        Assert.Equal(39.0625, s.Covariance[4, 4], 9);
        Assert.Equal(1e-10, s.Covariance[6, 6], 15);

        kf.Predict(s);
        // P00 = 100 + 39.0625 (velocity carried in) + 25 (process noise); P04 = 39.0625; P44 = 39.0625 + 0.390625.
        Assert.Equal(164.0625, s.Covariance[0, 0], 9);
        Assert.Equal(39.0625, s.Covariance[0, 4], 9);
        Assert.Equal(39.0625, s.Covariance[4, 0], 9);
        Assert.Equal(39.453125, s.Covariance[4, 4], 9);
        Assert.Equal(100, s.Mean[0], 9);

        // Measure x = 110: gain on x is P00 / (P00 + R) with R = 5² = 25; on vx, P40 / (P00 + R).
        kf.Update(s, new[] { 110.0, 200, 0.5, 100 });
        double innov = 164.0625 + 25;
        Assert.Equal(100 + 10 * 164.0625 / innov, s.Mean[0], 9);
        Assert.Equal(10 * 39.0625 / innov, s.Mean[4], 9);
        Assert.Equal(164.0625 - 164.0625 * 164.0625 / innov, s.Covariance[0, 0], 9);
        Assert.Equal(200, s.Mean[1], 9);
    }

    [Theory]
    [InlineData(BoxStateForm.Xyah)]
    [InlineData(BoxStateForm.Xywh)]
    public void A_box_moving_at_constant_velocity_is_learned_and_predicted(BoxStateForm form)
    {
        var kf = new KalmanBoxFilter(form);
        BoundingBox At(int f) => new(10 + 3f * f, 20 - 1f * f + 50, 50 + 3f * f, 100 - 1f * f + 50);
        var s = kf.Initiate(kf.Measure(At(0)));
        for (int f = 1; f <= 30; f++) { kf.Predict(s); kf.Update(s, kf.Measure(At(f))); }
        Assert.Equal(3, s.Mean[4], 1);
        Assert.Equal(-1, s.Mean[5], 1);
        kf.Predict(s);
        var p = kf.ToBox(s.Mean);
        var truth = At(31);
        Assert.Equal(truth.X1, p.X1, 0.2f);
        Assert.Equal(truth.Y2, p.Y2, 0.2f);
        // The covariance stays symmetric.
        for (int i = 0; i < 8; i++) for (int j = 0; j < 8; j++) Assert.Equal(s.Covariance[i, j], s.Covariance[j, i], 9);
    }
}
