using Strix.Data;

namespace Strix.Inference.Sources;

/// <summary>One decoded picture from a source: a still image, or a frame of a video, camera or stream.</summary>
/// <param name="Source">The file, camera index or URL it came from.</param>
/// <param name="Index">Frame index in the source (0-based, counting skipped frames); 0 for still images.</param>
/// <param name="Timestamp">Presentation time (zero for still images).</param>
/// <param name="Image">The RGB pixels.</param>
/// <param name="IsVideo">False for a still image.</param>
/// <param name="FrameRate">Kept frames per second (the source's rate over <c>vid_stride</c>); 0 for still images.</param>
/// <param name="SourceFrames">Frames the source's container declares (null for live sources).</param>
public sealed record SourceFrame(string Source, int Index, TimeSpan Timestamp, RgbImage Image, bool IsVideo, double FrameRate = 0, int? SourceFrames = null);

/// <summary>
/// Something frames are read from. <see cref="ReadFrames"/> may be called once; disposing releases the
/// decoder (and stops a camera or stream).
/// </summary>
public interface IFrameSource : IDisposable
{
    /// <summary>The path, camera index or URL, as the user gave it.</summary>
    string Name { get; }
    /// <summary>A camera or network stream: frames arrive in real time and may be dropped when inference falls behind.</summary>
    bool IsLive { get; }
    /// <summary>False for a still image.</summary>
    bool IsVideo { get; }
    /// <summary>Frames per second the source declares (30 when it declares none).</summary>
    double Fps { get; }
    /// <summary>Frames the container declares, for files; null for live sources and still images.</summary>
    int? FrameCount { get; }
    /// <summary>Decodes frames in order until the source ends.</summary>
    IEnumerable<SourceFrame> ReadFrames(CancellationToken cancel = default);
}
