namespace Strix.Data;

/// <summary>Where decoded (resized) images are kept between epochs (<c>cache=</c>).</summary>
public enum ImageCacheMode
{
    /// <summary><c>cache=false</c>: decode every time.</summary>
    None,
    /// <summary><c>cache=ram</c>: keep resized images in memory (refused when they would not fit).</summary>
    Ram,
    /// <summary><c>cache=disk</c>: store resized raw pixels beside each image (<c>.strix{imgsz}.rgb</c>).</summary>
    Disk,
}

/// <summary>
/// Everything that decides what a <see cref="YoloDataset"/> yields and how a <see cref="DataLoader"/>
/// batches it. Names follow Ultralytics' arguments (<c>imgsz, batch, workers, rect, cache, fraction, seed</c>).
/// </summary>
public sealed record DataLoaderOptions
{
    /// <summary><c>imgsz</c>: training/validation image size (long side; square for training).</summary>
    public int ImgSize { get; init; } = 640;
    /// <summary><c>batch</c>.</summary>
    public int BatchSize { get; init; } = 16;
    /// <summary>Reshuffle every epoch (training).</summary>
    public bool Shuffle { get; init; } = false;
    /// <summary>
    /// <c>workers</c>: decoding/augmenting threads; 0 loads on the caller's thread. Defaults to
    /// Ultralytics' 8 capped at the core count; any explicit number is used as given (results never depend on it).
    /// </summary>
    public int Workers { get; init; } = DefaultWorkers;

    /// <summary>min(8, cores).</summary>
    public static int DefaultWorkers => Math.Min(8, Environment.ProcessorCount);
    /// <summary>Batches the workers may prepare ahead of the consumer (bounded queue).</summary>
    public int Prefetch { get; init; } = 4;
    /// <summary><c>seed</c>: with epoch and index, fixes every random choice.</summary>
    public int Seed { get; init; } = 0;
    /// <summary>Apply training augmentation (mosaic, affine, mixup, HSV, flips); false = letterbox only.</summary>
    public bool Augment { get; init; } = false;
    /// <summary>Augmentation hyper-parameters (used when <see cref="Augment"/>).</summary>
    public AugmentationOptions Hyp { get; init; } = new();
    /// <summary><c>rect</c>: batches of similar aspect ratio letterboxed to the smallest stride-multiple shape (validation). Disables mosaic and shuffling.</summary>
    public bool Rect { get; init; } = false;
    /// <summary>Model stride the letterboxed shapes must be multiples of.</summary>
    public int Stride { get; init; } = 32;
    /// <summary>Extra padding (in strides) of rect batch shapes; Ultralytics uses 0.5 for validation.</summary>
    public double Pad { get; init; } = 0.0;
    /// <summary><c>cache</c>.</summary>
    public ImageCacheMode Cache { get; init; } = ImageCacheMode.None;
    /// <summary><c>fraction</c>: use only the first fraction of the (sorted) image list.</summary>
    public double Fraction { get; init; } = 1.0;
    /// <summary>Total training epochs; with <see cref="AugmentationOptions.CloseMosaic"/> decides when <see cref="DataLoader.SetEpoch"/> closes mosaic. 0 = never automatically.</summary>
    public int Epochs { get; init; } = 0;
    /// <summary>Drop a final incomplete batch.</summary>
    public bool DropLast { get; init; } = false;
    /// <summary>
    /// Data-parallel share: this loader yields only rank <see cref="Rank"/>'s part of each epoch out of
    /// <see cref="WorldSize"/> (see <see cref="DataLoader.EpochOrder"/>). 0 of 1 = everything.
    /// </summary>
    public int Rank { get; init; } = 0;
    public int WorldSize { get; init; } = 1;
    /// <summary>
    /// Segmentation: carry each object's polygon through augmentation and rasterise target masks
    /// (<see cref="Sample.Masks"/>). Images whose label file has no polygons get boxes without masks.
    /// </summary>
    public bool Segments { get; init; } = false;
    /// <summary><c>mask_ratio</c>: target masks are 1/ratio of the image size (4: the prototypes' stride).</summary>
    public int MaskRatio { get; init; } = 4;
    /// <summary><c>overlap_mask</c>: one index plane per image (objects sorted by area) instead of one plane per object.</summary>
    public bool OverlapMask { get; init; } = true;

    /// <summary>
    /// Oriented boxes (OBB): each object's outline (its four corners, resampled along the edges) travels through
    /// augmentation, and the sample's rotated box is the smallest rectangle around what is left of it
    /// (<see cref="Sample.OrientedBoxes"/>). A plain box row is an unrotated rectangle.
    /// </summary>
    public bool OrientedBoxes { get; init; } = false;

    /// <summary>Pose: <c>kpt_shape</c> [K, D]: labels carry K keypoints per object, through every augmentation into <see cref="Batch.Keypoints"/>.</summary>
    public int[]? KptShape { get; init; }
    /// <summary>Pose: <c>flip_idx</c>: for each keypoint, the one it becomes in a left-right flip (null: keypoints keep their index).</summary>
    public int[]? FlipIdx { get; init; }

    /// <summary>Options Ultralytics uses for a training loader (<paramref name="workers"/> −1 = <see cref="DefaultWorkers"/>).</summary>
    public static DataLoaderOptions ForTraining(int imgsz = 640, int batch = 16, int workers = -1, int seed = 0, AugmentationOptions? hyp = null, int epochs = 0) => new()
    {
        ImgSize = imgsz, BatchSize = batch, Workers = workers < 0 ? DefaultWorkers : workers, Seed = seed, Shuffle = true, Augment = true,
        Hyp = hyp ?? new AugmentationOptions(), Epochs = epochs,
    };

    /// <summary>Options Ultralytics uses for a validation loader: no augmentation, rect batches with 0.5 stride padding (<paramref name="workers"/> −1 = <see cref="DefaultWorkers"/>).</summary>
    public static DataLoaderOptions ForValidation(int imgsz = 640, int batch = 32, int workers = -1, bool rect = true) => new()
    {
        ImgSize = imgsz, BatchSize = batch, Workers = workers < 0 ? DefaultWorkers : workers, Shuffle = false, Augment = false, Rect = rect, Pad = 0.5,
        Hyp = AugmentationOptions.None,
    };

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid value.</summary>
    public void Validate()
    {
        if (ImgSize < 32) throw new ArgumentException($"imgsz={ImgSize} must be at least 32");
        if (Stride <= 0) throw new ArgumentException($"stride={Stride} must be positive");
        if (ImgSize % Stride != 0) throw new ArgumentException($"imgsz={ImgSize} must be a multiple of the max stride {Stride}");
        if (BatchSize < 1) throw new ArgumentException($"batch={BatchSize} must be at least 1");
        if (Workers < 0) throw new ArgumentException($"workers={Workers} must be ≥ 0");
        if (Prefetch < 1) throw new ArgumentException($"prefetch={Prefetch} must be ≥ 1");
        if (!(Fraction > 0 && Fraction <= 1)) throw new ArgumentException($"fraction={Fraction} must be in (0, 1]");
        if (Pad < 0) throw new ArgumentException($"pad={Pad} must be ≥ 0");
        if (MaskRatio < 1 || ImgSize % MaskRatio != 0) throw new ArgumentException($"mask_ratio={MaskRatio} must be a positive divisor of imgsz={ImgSize}");
        if (WorldSize < 1 || Rank < 0 || Rank >= WorldSize) throw new ArgumentException($"rank {Rank} of world size {WorldSize} is not a valid data shard");
        if (KptShape is not null && KptShape is not [>= 1 and <= 1000, 2 or 3]) throw new ArgumentException($"kpt_shape [{string.Join(", ", KptShape)}] must be [K, 2 or 3]");
        if (FlipIdx is not null && (KptShape is null || FlipIdx.Length != KptShape[0] || FlipIdx.Order().Where((v, i) => v != i).Any()))
            throw new ArgumentException($"flip_idx [{string.Join(", ", FlipIdx)}] must be a permutation of the {KptShape?[0] ?? 0} keypoints");
        Hyp.Validate();
    }

    /// <summary>Parses <c>cache=</c> the way Ultralytics does: true/ram, disk, false.</summary>
    public static ImageCacheMode ParseCache(string? value) => value?.Trim().ToLowerInvariant() switch
    {
        null or "" or "false" or "0" or "no" or "none" => ImageCacheMode.None,
        "true" or "ram" or "1" => ImageCacheMode.Ram,
        "disk" => ImageCacheMode.Disk,
        _ => throw new ArgumentException($"cache={value} must be ram, disk or false"),
    };
}
