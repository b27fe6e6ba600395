using Strix.Data;

namespace Strix.Inference.Sources;

/// <summary>A still image file as a one-frame source.</summary>
public sealed class ImageFileSource : IFrameSource
{
    public ImageFileSource(string path) => Name = path;

    public string Name { get; }
    public bool IsLive => false;
    public bool IsVideo => false;
    public double Fps => 0;
    public int? FrameCount => 1;

    public IEnumerable<SourceFrame> ReadFrames(CancellationToken cancel = default)
    {
        yield return new SourceFrame(Name, 0, TimeSpan.Zero, ImageIO.Load(Name), IsVideo: false);
    }

    public void Dispose() { }
}
