using Strix.Models;

namespace Strix.Tests.Models;

public class ModelMetadataLimitsTests
{
    /// <summary>A model is built from its file's metadata before any weight is read: absurd claims are refused, not allocated.</summary>
    [Theory]
    [InlineData("width", "1000", "metadata 'width' = 1000 is outside")]
    [InlineData("depth", "-1", "metadata 'depth' = -1 is outside")]
    [InlineData("max_channels", "100000000", "metadata 'max_channels' = 100000000 is outside")]
    [InlineData("nc", "0", "metadata 'nc' = 0 is outside")]
    [InlineData("width", "wide", "metadata 'width' has an invalid value 'wide'")]
    public void Absurd_architecture_claims_are_refused(string key, string value, string message)
    {
        using var m = TinyModels.WithStatistics(2);
        var d = ModelMetadata.For(m, new[] { "a", "b" }, 160).ToDictionary().ToDictionary(kv => kv.Key, kv => kv.Value);
        d[key] = value;
        if (key == "nc") d["names"] = "[]";
        var e = Assert.Throws<InvalidDataException>(() => ModelMetadata.FromDictionary(d, "crafted.safetensors"));
        Assert.Contains("crafted.safetensors", e.Message);
        Assert.Contains(message, e.Message);
    }
}
