using OpenCvSharp;
using Strix.Data;
using Strix.Inference.Sources;

namespace Strix.Inference.Tracking;

/// <summary>
/// Global camera motion between consecutive frames (BoT-SORT's GMC, <c>gmc_method: sparseOptFlow</c>): corners
/// of the previous frame (Shi–Tomasi) are followed into the current one with pyramidal Lucas–Kanade optical
/// flow, and a rotation + uniform scale + translation is fitted to them with RANSAC. Frames are analysed at half
/// size for speed, as Ultralytics does; the returned transform is in full-size pixels. Identity on the first
/// frame, or when too few points can be followed (a blank or changed scene).
/// </summary>
public sealed class CameraMotion : IDisposable
{
    readonly int _downscale;
    Mat? _previous;
    Point2f[] _corners = Array.Empty<Point2f>();

    public CameraMotion(int downscale = 2)
    {
        OpenCv.EnsureAvailable();
        _downscale = Math.Max(1, downscale);
    }

    /// <summary>The identity transform [[1, 0, 0], [0, 1, 0]].</summary>
    public static double[,] Identity => new double[,] { { 1, 0, 0 }, { 0, 1, 0 } };

    /// <summary>
    /// The 2×3 affine map taking points of the previous frame to this one: x' = a·x + b·y + tx, y' = c·x + d·y + ty.
    /// </summary>
    public double[,] Estimate(RgbImage frame)
    {
        using var bgr = OpenCv.ToBgr(frame);
        var gray = new Mat();
        Cv2.CvtColor(bgr, gray, ColorConversionCodes.BGR2GRAY);
        if (_downscale > 1)
            Cv2.Resize(gray, gray, new Size(Math.Max(1, frame.Width / _downscale), Math.Max(1, frame.Height / _downscale)), interpolation: InterpolationFlags.Area);
        var result = Identity;
        if (_previous is not null && _corners.Length >= 4 && _previous.Size() == gray.Size())
        {
            var next = Array.Empty<Point2f>();
            Cv2.CalcOpticalFlowPyrLK(_previous, gray, _corners, ref next, out var status, out _);
            var from = new List<Point2f>();
            var to = new List<Point2f>();
            for (int i = 0; i < status.Length; i++)
                if (status[i] == 1) { from.Add(_corners[i]); to.Add(next[i]); }
            if (from.Count >= 4)
            {
                using var fromMat = Mat.FromArray(from.ToArray());
                using var toMat = Mat.FromArray(to.ToArray());
                using var h = Cv2.EstimateAffinePartial2D(fromMat, toMat);
                if (h is not null && !h.Empty())
                {
                    for (int r = 0; r < 2; r++) for (int c = 0; c < 3; c++) result[r, c] = h.At<double>(r, c);
                    result[0, 2] *= _downscale;
                    result[1, 2] *= _downscale;
                }
            }
        }
        _previous?.Dispose();
        _previous = gray;
        _corners = Cv2.GoodFeaturesToTrack(gray, maxCorners: 1000, qualityLevel: 0.01, minDistance: 1, mask: null!, blockSize: 3, useHarrisDetector: false, k: 0.04);
        return result;
    }

    /// <summary>Forgets the previous frame (a new video).</summary>
    public void Reset()
    {
        _previous?.Dispose();
        _previous = null;
        _corners = Array.Empty<Point2f>();
    }

    public void Dispose() => Reset();
}
