using System.Globalization;
using System.Text;
using Strix.Data;
using Strix.Plotting;

namespace Strix.Inference;

/// <summary>Milliseconds per image spent in each prediction stage.</summary>
public readonly record struct Speed(double Preprocess, double Inference, double Postprocess);

/// <summary>
/// The detections for one image, in original-image pixels, with Ultralytics' accessors
/// (xyxy, xywh and their normalised forms, conf, cls) plus a list of <see cref="Detection"/>s.
/// </summary>
public sealed class Results
{
    public Results(string? path, int origHeight, int origWidth, IReadOnlyList<string> names,
        IReadOnlyList<Detection> detections, Speed speed, RgbImage? origImage = null)
    {
        Path = path; OrigHeight = origHeight; OrigWidth = origWidth; Names = names;
        Detections = detections; Speed = speed; OrigImage = origImage;
    }

    /// <summary>Source file (or video, camera, stream), or null for in-memory images.</summary>
    public string? Path { get; }
    public int OrigHeight { get; }
    public int OrigWidth { get; }
    /// <summary>(height, width), as Ultralytics' orig_shape.</summary>
    public (int Height, int Width) OrigShape => (OrigHeight, OrigWidth);
    public IReadOnlyList<string> Names { get; }
    /// <summary>Detections sorted by confidence, highest first.</summary>
    public IReadOnlyList<Detection> Detections { get; }
    public Speed Speed { get; }
    /// <summary>The decoded source image (kept so results can be drawn).</summary>
    public RgbImage? OrigImage { get; }
    /// <summary>A segmentation model's masks, one per detection in the same order, at the original size; null for detection.</summary>
    public SegmentMasks? Masks { get; init; }
    /// <summary>An OBB model's rotated boxes, one per detection in the same order (the detection's box is their axis-aligned bounds); null for the other tasks.</summary>
    public IReadOnlyList<OrientedBox>? OrientedBoxes { get; init; }
    /// <summary>A pose model's keypoints, one set per detection in the same order; null for the other tasks.</summary>
    public PoseKeypoints? Keypoints { get; init; }
    /// <summary>A classifier's class probabilities (then there are no detections); null for the other tasks.</summary>
    public ClassProbabilities? Probs { get; init; }

    public int Count => Detections.Count;

    /// <summary>For a video frame: its index in the source (0-based); null for still images.</summary>
    public int? FrameIndex { get; init; }
    /// <summary>For a video frame: its presentation time.</summary>
    public TimeSpan? Timestamp { get; init; }

    /// <summary>Track ids of the detections (Ultralytics' <c>boxes.id</c>); null unless a tracker produced them.</summary>
    public int[]? Ids => Detections.Count > 0 && Detections.All(d => d.TrackId is not null) ? Detections.Select(d => d.TrackId!.Value).ToArray() : null;

    /// <summary>For a video frame: frames per second of the stream of kept frames (what a saved video plays at).</summary>
    public double? FrameRate { get; init; }

    /// <summary>These results as frame <paramref name="index"/> of a video, at <paramref name="timestamp"/>.</summary>
    public Results AtFrame(int index, TimeSpan timestamp, double frameRate, int? sourceFrames = null) =>
        new(Path, OrigHeight, OrigWidth, Names, Detections, Speed, OrigImage) { FrameIndex = index, Timestamp = timestamp, FrameRate = frameRate, SourceFrames = sourceFrames, Masks = Masks, Probs = Probs, Keypoints = Keypoints, OrientedBoxes = OrientedBoxes };

    /// <summary>For a video frame: the frames its file declares (null for live sources).</summary>
    public int? SourceFrames { get; init; }

    /// <summary>
    /// The image inside a detection's box, enlarged as Ultralytics' <c>save_one_box</c> does (sides × 1.02 + 10 px),
    /// clipped to the image.
    /// </summary>
    public RgbImage Crop(Detection d)
    {
        if (OrigImage is not { } img) throw new InvalidOperationException("these results hold no image to crop");
        float w = d.Box.Width * 1.02f + 10, h = d.Box.Height * 1.02f + 10;
        int x1 = Math.Clamp((int)(d.Box.CenterX - w / 2), 0, img.Width - 1), y1 = Math.Clamp((int)(d.Box.CenterY - h / 2), 0, img.Height - 1);
        int x2 = Math.Clamp((int)(d.Box.CenterX + w / 2), x1 + 1, img.Width), y2 = Math.Clamp((int)(d.Box.CenterY + h / 2), y1 + 1, img.Height);
        int cw = x2 - x1, ch = y2 - y1;
        var px = new byte[cw * ch * 3];
        for (int y = 0; y < ch; y++) Buffer.BlockCopy(img.Pixels, ((y1 + y) * img.Width + x1) * 3, px, y * cw * 3, cw * 3);
        return new RgbImage(cw, ch, px);
    }

    /// <summary>
    /// The same image and timing with other detections (a tracker's, a filter's). Masks, keypoints and rotated boxes belong
    /// to the old detections, so they go unless the new ones' are given (e.g. <see cref="SegmentMasks.Select"/>,
    /// <see cref="PoseKeypoints.Select"/>).
    /// </summary>
    public Results WithDetections(IReadOnlyList<Detection> detections, SegmentMasks? masks = null, PoseKeypoints? keypoints = null,
        IReadOnlyList<OrientedBox>? orientedBoxes = null)
    {
        if (masks is not null && masks.Count != detections.Count) throw new ArgumentException($"{masks.Count} masks for {detections.Count} detections", nameof(masks));
        if (keypoints is not null && keypoints.Count != detections.Count) throw new ArgumentException($"{keypoints.Count} keypoint sets for {detections.Count} detections", nameof(keypoints));
        if (orientedBoxes is not null && orientedBoxes.Count != detections.Count) throw new ArgumentException($"{orientedBoxes.Count} rotated boxes for {detections.Count} detections", nameof(orientedBoxes));
        return new(Path, OrigHeight, OrigWidth, Names, detections, Speed, OrigImage)
        {
            FrameIndex = FrameIndex, Timestamp = Timestamp, FrameRate = FrameRate, SourceFrames = SourceFrames,
            Masks = masks, Keypoints = keypoints, OrientedBoxes = orientedBoxes,
        };
    }

    /// <summary>[n, 4] corners in pixels.</summary>
    public float[][] Xyxy => Detections.Select(d => new[] { d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2 }).ToArray();
    /// <summary>[n, 4] centre, width, height in pixels.</summary>
    public float[][] Xywh => Detections.Select(d => new[] { d.Box.CenterX, d.Box.CenterY, d.Box.Width, d.Box.Height }).ToArray();
    /// <summary>[n, 4] corners normalised by the image size.</summary>
    public float[][] XyxyN => Detections.Select(d => new[] { d.Box.X1 / OrigWidth, d.Box.Y1 / OrigHeight, d.Box.X2 / OrigWidth, d.Box.Y2 / OrigHeight }).ToArray();
    /// <summary>[n, 4] centre, width, height normalised by the image size (YOLO label format).</summary>
    public float[][] XywhN => Detections.Select(d => new[] { d.Box.CenterX / OrigWidth, d.Box.CenterY / OrigHeight, d.Box.Width / OrigWidth, d.Box.Height / OrigHeight }).ToArray();
    public float[] Conf => Detections.Select(d => d.Confidence).ToArray();
    public int[] Cls => Detections.Select(d => d.ClassId).ToArray();

    /// <summary>
    /// YOLO-format label lines: <c>cls cx cy w h [conf] [track id]</c>, normalised (the id when tracking, as Ultralytics
    /// writes it); with masks, <c>cls x1 y1 x2 y2 … [conf]</c>, each mask's outline normalised — the segmentation label
    /// format, so predictions can become training labels again (a detection whose mask is empty is left out). A
    /// classifier's: <c>probability name</c> for its top five, as Ultralytics writes them.
    /// </summary>
    public string ToTxt(bool saveConf = false)
    {
        var sb = new StringBuilder();
        if (Probs is { } probs)
        {
            foreach (int c in probs.Top5) sb.Append(string.Create(CultureInfo.InvariantCulture, $"{probs.Data[c]:0.00} {Names[c]}\n"));
            return sb.ToString();
        }
        for (int i = 0; i < Detections.Count; i++)
        {
            var d = Detections[i];
            if (OrientedBoxes is { } obbs)
            {
                // OBB: the four corners, normalised, Ultralytics' OBB label format.
                sb.Append(d.ClassId.ToString(CultureInfo.InvariantCulture));
                var c = obbs[i].Corners();
                for (int k = 0; k < 8; k += 2)
                    sb.Append(string.Create(CultureInfo.InvariantCulture, $" {c[k] / OrigWidth:0.######} {c[k + 1] / OrigHeight:0.######}"));
            }
            else if (Masks is { } masks)
            {
                var poly = masks.Polygon(i);
                if (poly.Length < 6) continue;
                sb.Append(d.ClassId.ToString(CultureInfo.InvariantCulture));
                for (int k = 0; k < poly.Length; k += 2)
                    sb.Append(string.Create(CultureInfo.InvariantCulture, $" {poly[k] / OrigWidth:0.######} {poly[k + 1] / OrigHeight:0.######}"));
            }
            else
            {
                sb.Append(string.Create(CultureInfo.InvariantCulture,
                    $"{d.ClassId} {d.Box.CenterX / OrigWidth:0.######} {d.Box.CenterY / OrigHeight:0.######} {d.Box.Width / OrigWidth:0.######} {d.Box.Height / OrigHeight:0.######}"));
                // Pose: each keypoint's x y (normalised) and its confidence, the pose label format.
                if (Keypoints is { } kp)
                    foreach (var (x, y, c) in kp[i])
                        sb.Append(string.Create(CultureInfo.InvariantCulture, $" {x / OrigWidth:0.######} {y / OrigHeight:0.######} {c:0.######}"));
            }
            if (saveConf) sb.Append(string.Create(CultureInfo.InvariantCulture, $" {d.Confidence:0.######}"));
            if (d.TrackId is int id) sb.Append(string.Create(CultureInfo.InvariantCulture, $" {id}"));
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>"2 persons, 1 bus" — the per-image summary Ultralytics prints.</summary>
    public string Summary()
    {
        if (Probs is { } probs) return string.Join(", ", probs.Top5.Select(c => string.Create(CultureInfo.InvariantCulture, $"{Names[c]} {probs.Data[c]:0.00}")));
        if (Count == 0) return "(no detections)";
        return string.Join(", ", Detections.GroupBy(d => d.ClassId).OrderBy(g => g.Key)
            .Select(g => $"{g.Count()} {g.First().ClassName}{(g.Count() > 1 ? "s" : "")}"));
    }

    /// <summary>The original image with masks (translucent, in class colours), keypoints and skeletons, boxes and labels drawn.</summary>
    public RgbImage Plot(bool labels = true, bool conf = true)
    {
        if (OrigImage is null) throw new InvalidOperationException("these results hold no image to draw on");
        if (Probs is { } probs)
        {
            // A classifier's top five as text at the top-left, as Ultralytics draws them.
            using var bmp = ImageIO.ToBitmap(OrigImage);
            Annotator.DrawCaption(bmp, probs.Top5.Select(c => conf ? string.Create(CultureInfo.InvariantCulture, $"{Names[c]} {probs.Data[c]:0.00}") : Names[c]).ToList());
            return ImageIO.FromBitmap(bmp);
        }
        var image = OrigImage;
        if (Masks is { Count: > 0 } masks)
        {
            image = OrigImage.Clone();
            // Weakest first, so the strongest detection's colour ends on top where masks overlap.
            foreach (int i in Enumerable.Range(0, masks.Count).OrderBy(i => Detections[i].Confidence))
                MaskOverlay.Blend(image, masks[i], Annotator.ColorFor(Detections[i].ClassId));
        }
        if (Keypoints is { Count: > 0 } kps)
        {
            image = image == OrigImage ? OrigImage.Clone() : image;
            using var bmp = ImageIO.ToBitmap(image);
            for (int i = 0; i < kps.Count; i++) Annotator.DrawKeypoints(bmp, kps[i], kps.NumKeypoints == 17 ? PoseKeypoints.CocoSkeleton : null);
            image = ImageIO.FromBitmap(bmp);
        }
        return Annotator.Draw(image, Detections.Select((d, i) => new DrawnBox(d.Box.X1, d.Box.Y1, d.Box.X2, d.Box.Y2, d.ClassId,
            !labels ? null : (d.TrackId is int id ? $"id:{id} " : "") + (conf ? $"{d.ClassName} {d.Confidence:0.00}" : d.ClassName), d.Confidence)
        {
            Corners = OrientedBoxes?[i].Corners(), // an OBB model's rotated box, drawn as its polygon
        }));
    }

    /// <summary>Draws and saves to <paramref name="path"/> (JPEG/PNG by extension), atomically.</summary>
    public void Save(string path) => ImageIO.Save(Plot(), path);
}
