using Strix.Runtime;
namespace Strix.Data;

/// <summary>
/// A checked YOLO detection dataset (images + labels) and the per-sample pipeline Ultralytics trains
/// with: load and resize to long side <c>imgsz</c>; for training mosaic (or letterbox), random
/// perspective, mixup, HSV jitter and flips; for validation a letterbox (per rect batch shape).
/// Thread-safe: <see cref="Load"/> may be called from many workers at once, and its result depends
/// only on (seed, epoch, index).
/// </summary>
public sealed class YoloDataset
{
    readonly ImageLabels[] _items;
    readonly (int Height, int Width)[]? _batchShapes;
    readonly ImageCache _cache;
    volatile bool _mosaicClosed;

    /// <summary>Checks the images of one split of <paramref name="config"/> and prepares them for loading.</summary>
    public static YoloDataset Create(DatasetConfig config, string split, DataLoaderOptions options, Action<string>? warn = null) =>
        new(config.Split(split), config.Names, options, warn, prefix: $"{split}: ");

    /// <param name="imageFiles">Absolute image paths (labels are found by the images/ → labels/ rule).</param>
    /// <param name="names">Class names; their count bounds the class ids.</param>
    /// <param name="options">Image size, augmentation, rect, cache, fraction, seed.</param>
    /// <param name="warn">Receives each warning once (bad files, cache problems); null = standard error.</param>
    /// <param name="prefix">Prefix for messages, e.g. <c>train: </c>.</param>
    public YoloDataset(IReadOnlyList<string> imageFiles, IReadOnlyList<string> names, DataLoaderOptions options,
        Action<string>? warn = null, string prefix = "")
        : this(imageFiles, names, options, warn, prefix, availableMemoryBytes: null) { }

    /// <summary>As the public constructor; <paramref name="availableMemoryBytes"/> overrides the RAM-cache budget (tests).</summary>
    internal YoloDataset(IReadOnlyList<string> imageFiles, IReadOnlyList<string> names, DataLoaderOptions options,
        Action<string>? warn, string prefix, long? availableMemoryBytes)
    {
        options.Validate();
        Options = options;
        Names = names.ToArray();
        Warn = warn ?? (m => Console.Error.WriteLine($"WARNING {m}"));
        var files = imageFiles.Take(Math.Max(1, (int)Math.Round(imageFiles.Count * options.Fraction))).ToList();
        Scan = LabelScan.Run(files, Names.Length, prefix, Warn, kptShape: options.KptShape);
        var items = Scan.Valid.ToArray();

        if (options.Rect)
        {
            // Sort by aspect ratio so each batch needs the least padding (Ultralytics' set_rectangle).
            items = items.OrderBy(l => (double)l.Height / l.Width).ToArray();
            _batchShapes = RectShapes(items, options.BatchSize, options.ImgSize, options.Stride, options.Pad);
        }
        _items = items;
        _cache = new ImageCache(options.Cache, options.ImgSize, _items, Warn, availableMemoryBytes,
            recent: options.Augment && (options.Hyp.Mosaic > 0 || options.Hyp.MixUp > 0));
    }

    /// <summary>The options this dataset was built with.</summary>
    public DataLoaderOptions Options { get; }
    public string[] Names { get; }
    /// <summary>The check result (counts, warnings, per-class instances).</summary>
    public LabelScan Scan { get; }
    /// <summary>Usable images (corrupt ones removed; sorted by aspect ratio when rect).</summary>
    public IReadOnlyList<ImageLabels> Items => _items;
    public int Count => _items.Length;
    internal Action<string> Warn { get; }

    /// <summary>Whether mosaic (and mixup) are currently applied to training samples.</summary>
    public bool MosaicEnabled => Options.Augment && !Options.Rect && !_mosaicClosed && Options.Hyp.Mosaic > 0;

    /// <summary>Switches mosaic and mixup off for the rest of training (Ultralytics' <c>close_mosaic</c>).</summary>
    public void CloseMosaic() => _mosaicClosed = true;

    /// <summary>Switches mosaic back on (e.g. when a trainer rewinds to an earlier epoch).</summary>
    public void OpenMosaic() => _mosaicClosed = false;

    /// <summary>
    /// The letterbox shape <c>(H, W)</c> of the batch an index falls into when <c>rect</c> is on, else null.
    /// </summary>
    public (int Height, int Width)? BatchShape(int index) => _batchShapes?[index / Options.BatchSize];

    /// <summary>
    /// Rect batch shapes: images sorted by aspect ratio are grouped per batch, and each batch gets the
    /// smallest stride-multiple shape holding all of them at long side imgsz (plus <paramref name="pad"/> strides).
    /// </summary>
    public static (int Height, int Width)[] RectShapes(IReadOnlyList<ImageLabels> sortedItems, int batchSize, int imgsz, int stride, double pad)
    {
        int nb = (sortedItems.Count + batchSize - 1) / batchSize;
        var shapes = new (int, int)[nb];
        for (int b = 0; b < nb; b++)
        {
            double mini = double.MaxValue, maxi = double.MinValue;
            for (int i = b * batchSize; i < Math.Min(sortedItems.Count, (b + 1) * batchSize); i++)
            {
                double ar = (double)sortedItems[i].Height / sortedItems[i].Width;
                mini = Math.Min(mini, ar); maxi = Math.Max(maxi, ar);
            }
            double sh = 1, sw = 1;
            if (maxi < 1) sh = maxi;
            else if (mini > 1) sw = 1 / mini;
            shapes[b] = ((int)Math.Ceiling(sh * imgsz / stride + pad) * stride, (int)Math.Ceiling(sw * imgsz / stride + pad) * stride);
        }
        return shapes;
    }

    /// <summary>An image resized to long side imgsz with its labels, before any augmentation.</summary>
    public readonly record struct LoadedImage(RgbImage Image, ImageLabels Labels, (int Height, int Width) Original, (int Height, int Width) Resized);

    /// <summary>Loads (or takes from the cache) image <paramref name="index"/> resized to long side imgsz.</summary>
    public LoadedImage LoadImage(int index)
    {
        var item = _items[index];
        var img = _cache.Get(index, item);
        return new LoadedImage(img, item, (item.Height, item.Width), (img.Height, img.Width));
    }

    /// <summary>
    /// Produces sample <paramref name="index"/> for <paramref name="epoch"/>: augmented when
    /// <see cref="DataLoaderOptions.Augment"/>, letterboxed otherwise. Deterministic in
    /// (seed, epoch, index); exceptions name the image file.
    /// </summary>
    public Sample Load(int index, int epoch)
    {
        if ((uint)index >= (uint)_items.Length) throw new ArgumentOutOfRangeException(nameof(index), $"index {index} outside dataset of {_items.Length}");
        try
        {
            return Options.Augment ? LoadAugmented(index, epoch) : LoadLetterboxed(index);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !e.Message.Contains(_items[index].ImageFile))
        {
            throw new InvalidDataException($"{_items[index].ImageFile}: {e.Message}", e);
        }
    }

    Sample LoadLetterboxed(int index)
    {
        var li = LoadImage(index);
        var (th, tw) = BatchShape(index) ?? (Options.ImgSize, Options.ImgSize);
        var lb = Letterbox.Apply(li.Image, th, tw, auto: false, scaleUp: false, center: true, stride: Options.Stride);
        var inst = ToInstances(li).Affine((float)lb.RatioW, (float)lb.RatioH, (float)lb.PadW, (float)lb.PadH);
        double rw = lb.RatioW * li.Resized.Width / li.Original.Width, rh = lb.RatioH * li.Resized.Height / li.Original.Height;
        return MakeSample(lb.Image, inst, li.Labels.ImageFile, li.Original, li.Resized, (rw, rh, lb.PadW, lb.PadH));
    }

    /// <summary>The labels of a loaded image in its pixels; with <see cref="DataLoaderOptions.Segments"/>, the polygons resampled.</summary>
    Instances ToInstances(LoadedImage li)
    {
        var l = li.Labels;
        // An image without objects has no polygons to drop: give it an empty list, so a mosaic with it keeps the others'.
        var segments = Options.Segments ? l.Segments ?? (l.Count == 0 ? Array.Empty<float[]>() : null) : null;
        var keypoints = Options.KptShape is null ? null : l.Keypoints ?? Array.Empty<float[]>();
        if (Options.OrientedBoxes)
            // OBB: the corners (or a box row's unrotated rectangle) follow every warp, flip and clip as an outline.
            return Instances.FromNormalized(l.Cls, l.Boxes, l.Segments ?? Instances.BoxCorners(l.Boxes), li.Image.Width, li.Image.Height,
                segmentPoints: Instances.OrientedBoxPoints);
        return Instances.FromNormalized(l.Cls, l.Boxes, segments, li.Image.Width, li.Image.Height, segmentPoints: Instances.SegmentPoints, keypoints: keypoints);
    }

    /// <summary>
    /// The sample for an (augmented) image and its labels: normalised boxes, and for segmentation the polygons and the
    /// target masks, the objects reordered as the overlap mask numbers them.
    /// </summary>
    Sample MakeSample(RgbImage img, Instances inst, string file, (int, int) original, (int, int) resized, (double, double, double, double) ratioPad)
    {
        InstanceMasks? masks = null;
        if (Options.Segments)
        {
            // Objects from a label file without polygons keep their boxes and get empty masks.
            var withPolygons = inst.Segments is not null ? inst : new Instances(inst.Cls, inst.Xyxy, inst.Cls.Select(_ => Array.Empty<float>()).ToArray());
            var (m, order) = InstanceMasks.Rasterize(withPolygons, img.Width, img.Height, Options.MaskRatio, Options.OverlapMask);
            masks = m;
            inst = withPolygons.Select(order);
        }
        float w = img.Width, h = img.Height;
        if (Options.OrientedBoxes)
        {
            var rects = inst.MinAreaRects();
            for (int i = 0; i < rects.Length; i += 5) { rects[i] /= w; rects[i + 1] /= h; rects[i + 2] /= w; rects[i + 3] /= h; }
            return new Sample(img, inst.Cls, inst.ToNormalizedXywh(w, h), file, original, resized, ratioPad, orientedBoxes: rects);
        }
        var segments = inst.Segments?.Select(p =>
        {
            var n = new float[p.Length];
            for (int i = 0; i < n.Length; i += 2) { n[i] = p[i] / w; n[i + 1] = p[i + 1] / h; }
            return n;
        }).ToArray();
        var keypoints = inst.Keypoints?.Select(k => Instances.MapPoints(k, (x, y) => (x / w, y / h))).ToArray();
        return new Sample(img, inst.Cls, inst.ToNormalizedXywh(w, h), file, original, resized, ratioPad, segments, masks, keypoints);
    }

    Sample LoadAugmented(int index, int epoch)
    {
        var hyp = Options.Hyp;
        var rng = new StrixRandom(Options.Seed, epoch, index, RandomStreams.Augment);
        bool mosaicOn = MosaicEnabled;
        var (img, inst) = MosaicOrLetterbox(index, epoch, rng, mosaicOn);
        if (mosaicOn && rng.Chance(hyp.MixUp))
        {
            int other = Partner(index, epoch, rng);
            var (img2, inst2) = MosaicOrLetterbox(other, epoch, new StrixRandom(Options.Seed, epoch, index, RandomStreams.MixUpPartner), mosaicOn);
            (img, inst) = MixUp.Apply(img, inst, img2, inst2, rng);
        }
        RandomHsv.Apply(img, hyp.HsvH, hyp.HsvS, hyp.HsvV, rng);
        RandomFlip.Apply(img, inst, hyp.FlipUD, hyp.FlipLR, rng, Options.FlipIdx);

        var item = _items[index];
        var resized = ImageCache.ResizedSize(item.Width, item.Height, Options.ImgSize);
        return MakeSample(img, inst, item.ImageFile, (item.Height, item.Width), (resized.Height, resized.Width),
            ((double)resized.Width / item.Width, (double)resized.Height / item.Height, 0, 0));
    }

    /// <summary>
    /// The order this dataset's samples are visited in an epoch: a permutation drawn from (seed, epoch)
    /// when <see cref="DataLoaderOptions.Shuffle"/>, else 0..n−1. The <see cref="DataLoader"/> batches in this order.
    /// </summary>
    public int[] EpochOrder(int epoch)
    {
        int n = _items.Length;
        if (!Options.Shuffle) return Enumerable.Range(0, n).ToArray();
        return new StrixRandom(Options.Seed, epoch, -1, RandomStreams.EpochOrder).Permutation(n);
    }

    (int Epoch, int[] Order, int[] Position)? _orderCache;
    readonly object _orderGate = new();

    /// <summary>
    /// Mosaic/mixup partners are drawn from the samples within ±<see cref="PartnerWindow"/> positions of
    /// this one in the epoch order, like Ultralytics' buffer of recently loaded images: the partners
    /// are being decoded by the workers at about the same time, so most come from the recent-image
    /// cache instead of being decoded again. Still a pure function of (seed, epoch, index).
    /// </summary>
    public int PartnerWindow => Math.Clamp(2 * Options.BatchSize, 8, 64);

    internal int Partner(int index, int epoch, StrixRandom rng)
    {
        int n = _items.Length, w = PartnerWindow;
        if (n <= 2 * w + 1) return rng.NextInt(n);
        (int Epoch, int[] Order, int[] Position) c;
        lock (_orderGate)
        {
            if (_orderCache is not { } cached || cached.Epoch != epoch)
            {
                var order = EpochOrder(epoch);
                var pos = new int[n];
                for (int i = 0; i < n; i++) pos[order[i]] = i;
                _orderCache = (epoch, order, pos);
            }
            c = _orderCache!.Value;
        }
        int d = rng.NextInt(1, w + 1) * (rng.NextInt(2) == 0 ? -1 : 1);
        return c.Order[((c.Position[index] + d) % n + n) % n];
    }

    /// <summary>Mosaic of four, or a single letterboxed image, then the random perspective warp.</summary>
    (RgbImage, Instances) MosaicOrLetterbox(int index, int epoch, StrixRandom rng, bool mosaicOn)
    {
        int s = Options.ImgSize;
        var hyp = Options.Hyp;
        if (mosaicOn && rng.Chance(hyp.Mosaic))
        {
            var tiles = new (RgbImage, Instances)[4];
            for (int k = 0; k < 4; k++)
            {
                var li = LoadImage(k == 0 ? index : Partner(index, epoch, rng));
                tiles[k] = (li.Image, ToInstances(li));
            }
            var (canvas, labels) = Mosaic.Combine(tiles, s, rng);
            return RandomPerspective.Apply(canvas, labels, hyp, rng, borderH: -s / 2, borderW: -s / 2);
        }
        var one = LoadImage(index);
        var (th, tw) = BatchShape(index) ?? (s, s);
        var lb = Letterbox.Apply(one.Image, th, tw, auto: false, scaleUp: true, center: true, stride: Options.Stride);
        var inst = ToInstances(one).Affine((float)lb.RatioW, (float)lb.RatioH, (float)lb.PadW, (float)lb.PadH);
        // Letterbox may return the cached image itself: never let later in-place steps touch the cache.
        var img = ReferenceEquals(lb.Image, one.Image) ? lb.Image.Clone() : lb.Image;
        var (warped, kept) = RandomPerspective.Apply(img, inst, hyp, rng);
        return (ReferenceEquals(warped, one.Image) ? warped.Clone() : warped, kept);
    }
}
