using Strix.Inference;

namespace Strix.Tests.Inference;

public class PredictOptionsTests
{
    [Fact]
    public void Tracking_uses_its_low_confidence_only_when_the_caller_set_none()
    {
        var unset = new PredictOptions { ImgSz = 320 };
        Assert.Equal(0.25, unset.PredictConf);
        Assert.Equal(0.1, unset.ForTrack().PredictConf);
        Assert.Equal(320, unset.ForTrack().ImgSz);
        var set = new PredictOptions { Conf = 0.4 };
        Assert.Equal(0.4, set.ForTrack().PredictConf);
        Assert.Same(set, set.ForTrack());
    }
}
