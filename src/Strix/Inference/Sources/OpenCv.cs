using System.Runtime.InteropServices;
using OpenCvSharp;
using Strix.Data;

namespace Strix.Inference.Sources;

/// <summary>
/// The video decoder and encoder: OpenCV (through OpenCvSharp and its official Linux runtime, which carries
/// FFmpeg). Its native library is loaded on first use only, so image-only users need nothing more; on Linux
/// it needs GTK 3 (<c>apt-get install libgtk-3-0</c>), which <see cref="EnsureAvailable"/> reports clearly.
/// </summary>
public static class OpenCv
{
    static readonly Lazy<string?> LoadError = new(TryLoad);

    /// <summary>True when OpenCV's native library loads on this machine.</summary>
    public static bool IsAvailable => LoadError.Value is null;

    /// <summary>Why video is unavailable here (null when it is available).</summary>
    public static string? UnavailableReason => LoadError.Value;

    /// <summary>Throws <see cref="NotSupportedException"/> naming what to install when video cannot work here.</summary>
    public static void EnsureAvailable()
    {
        if (LoadError.Value is string why) throw new NotSupportedException(why);
    }

    static string? TryLoad()
    {
        try
        {
            // FFmpeg's own log lines ("moov atom not found", …) would duplicate our messages; OpenCV reads this at load.
            if (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) SetEnv("OPENCV_FFMPEG_LOGLEVEL", "-8");
            Cv2.SetLogLevel(OpenCvSharp.LogLevel.SILENT);
            _ = Cv2.GetVersionString();
            return null;
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException or BadImageFormatException or EntryPointNotFoundException)
        {
            var inner = e is TypeInitializationException { InnerException: { } i } ? i : e;
            var missing = inner.Message.Contains("libgtk-3", StringComparison.Ordinal) || inner.Message.Contains("libgdk-3", StringComparison.Ordinal)
                ? " It needs GTK 3: on Debian or Ubuntu run `sudo apt-get install libgtk-3-0`." : "";
            return $"video sources need OpenCV's native library (NuGet OpenCvSharp4.official.runtime.linux-x64 on Linux), which did not load.{missing} ({FirstLine(inner.Message)})";
        }
    }

    static string FirstLine(string s) => s.Split('\n')[0].Trim();

    [DllImport("libc", EntryPoint = "setenv")]
    static extern int setenv(string name, string value, int overwrite);

    static void SetEnv(string name, string value)
    {
        try { setenv(name, value, 0); } catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { }
    }

    /// <summary>Copies a decoded OpenCV frame (BGR, BGRA or gray, 8-bit) into an RGB image.</summary>
    internal static RgbImage ToRgb(Mat frame)
    {
        using var rgb = new Mat();
        var code = frame.Channels() switch
        {
            1 => ColorConversionCodes.GRAY2RGB,
            4 => ColorConversionCodes.BGRA2RGB,
            3 => ColorConversionCodes.BGR2RGB,
            var c => throw new InvalidDataException($"unsupported frame with {c} channels"),
        };
        using var eight = frame.Depth() == MatType.CV_8U ? null : new Mat();
        var src = frame;
        if (eight is not null) { frame.ConvertTo(eight, MatType.CV_8UC(frame.Channels())); src = eight; }
        Cv2.CvtColor(src, rgb, code);
        int w = rgb.Width, h = rgb.Height;
        var pixels = new byte[w * h * 3];
        if (rgb.IsContinuous()) Marshal.Copy(rgb.Data, pixels, 0, pixels.Length);
        else for (int y = 0; y < h; y++) Marshal.Copy(rgb.Ptr(y), pixels, y * w * 3, w * 3);
        return new RgbImage(w, h, pixels);
    }

    /// <summary>An OpenCV BGR matrix holding a copy of an RGB image.</summary>
    internal static Mat ToBgr(RgbImage image)
    {
        using var rgb = new Mat(image.Height, image.Width, MatType.CV_8UC3);
        Marshal.Copy(image.Pixels, 0, rgb.Data, image.Pixels.Length);
        var bgr = new Mat();
        Cv2.CvtColor(rgb, bgr, ColorConversionCodes.RGB2BGR);
        return bgr;
    }
}
