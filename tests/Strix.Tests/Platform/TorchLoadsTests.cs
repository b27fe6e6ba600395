using TorchSharp;
using static TorchSharp.torch;

namespace Strix.Tests.Platform;

/// <summary>Proves the native TorchSharp backend loads from the build output with no manual steps.</summary>
public class TorchLoadsTests
{
    [Fact]
    public void NativeBackendLoadsAndComputes()
    {
        using var a = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2);
        using var b = a.matmul(a);
        Assert.Equal(new float[] { 7, 10, 15, 22 }, b.data<float>().ToArray());
    }
}
