namespace Strix.Inference;

/// <summary>
/// A pose model's keypoints for one image (Ultralytics' <c>results.keypoints</c>): for each detection, in the same order,
/// K points of (x, y) in original-image pixels and a confidence (the visibility probability; 1 for a model whose
/// keypoints have no visibility). Stored as one buffer [n, K, 3].
/// </summary>
public sealed class PoseKeypoints
{
    public PoseKeypoints(int count, int keypoints, float[] data)
    {
        if (count < 0 || keypoints < 1 || data.Length != count * keypoints * 3)
            throw new ArgumentException($"{data.Length} values for {count} objects of {keypoints} keypoints (3 values each)");
        Count = count; NumKeypoints = keypoints; Data = data;
    }

    /// <summary>Objects (the detections).</summary>
    public int Count { get; }
    /// <summary>K, keypoints per object.</summary>
    public int NumKeypoints { get; }
    /// <summary>[n, K, 3]: x, y, confidence.</summary>
    public float[] Data { get; }

    /// <summary>Object <paramref name="i"/>'s keypoints as (x, y, confidence).</summary>
    public (float X, float Y, float Conf)[] this[int i] =>
        Enumerable.Range(0, NumKeypoints).Select(k => (Data[(i * NumKeypoints + k) * 3], Data[(i * NumKeypoints + k) * 3 + 1], Data[(i * NumKeypoints + k) * 3 + 2])).ToArray();

    /// <summary>The keypoints of the objects at <paramref name="indices"/>, in that order.</summary>
    public PoseKeypoints Select(IReadOnlyList<int> indices)
    {
        int per = NumKeypoints * 3;
        var data = new float[indices.Count * per];
        for (int j = 0; j < indices.Count; j++) Array.Copy(Data, indices[j] * per, data, j * per, per);
        return new PoseKeypoints(indices.Count, NumKeypoints, data);
    }

    /// <summary>COCO's person skeleton (17 keypoints): pairs of keypoint indices joined when drawn.</summary>
    public static IReadOnlyList<(int A, int B)> CocoSkeleton => Plotting.Annotator.CocoSkeleton;
}
