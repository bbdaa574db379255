// Names, constants and places of DVS128 Gesture (Amir et al., CVPR 2017) as evnn prepares it: the
// official DvsGesture distribution (user*_*.aedat in AEDAT 3.1, *_labels.csv, the trials lists,
// gesture_mapping.csv), the sensor, the published class list, the lighting conditions of the file
// names, and EvNN's frame recipe (benchmarks/dvs_gesture: 1.7 s slices of 25 ms frames).
import { join } from 'node:path';

export const DVS128 = 'dvs128';
export const DVS128_TITLE = 'DVS128 Gesture';

export const DVS128_WIDTH = 128;
export const DVS128_HEIGHT = 128;
/** tonic's sensor_size (W, H, P) and its field order of one event. */
export const DVS128_SENSOR: [number, number, number] = [DVS128_WIDTH, DVS128_HEIGHT, 2];
export const DVS128_ORDERING = 'xypt';

/** The published classes in label order (gesture_mapping.csv's labels 1…11), as tonic names them. */
export const DVS128_CLASSES: readonly string[] = [
  'hand_clapping', 'right_hand_wave', 'left_hand_wave', 'right_arm_clockwise', 'right_arm_counter_clockwise',
  'left_arm_clockwise', 'left_arm_counter_clockwise', 'arm_roll', 'air_drums', 'air_guitar', 'other_gestures',
];
export const DVS128_NUM_CLASSES = DVS128_CLASSES.length;

/**
 * The lighting conditions of the official recordings (the part of `user01_fluorescent_led.aedat`
 * after the user). The Arrow `lighting` column holds the index into this list.
 */
export const DVS128_LIGHTINGS: readonly string[] = ['fluorescent', 'fluorescent_led', 'lab', 'led', 'natural'];

/** The per-row int32 columns between label and the events. */
export const DVS128_EXTRA_COLUMNS: readonly string[] = ['user', 'lighting'];

export const TRAIN_LIST = 'trials_to_train.txt';
export const TEST_LIST = 'trials_to_test.txt';
export const GESTURE_MAPPING = 'gesture_mapping.csv';
/** The official archive and the folder it unpacks to. */
export const ARCHIVE_NAME = 'DvsGesture.tar.gz';
export const FOLDER_NAME = 'DvsGesture';

/** EvNN's time grid: slices of 1.7 s (tonic SliceByTime, no overlap), frames of 25 ms. */
export const SLICE_US = 1_700_000;
export const FRAME_US = 25_000;
export const FRAMES_PER_SLICE = SLICE_US / FRAME_US; // 68
/**
 * EvNN divides the frame counts by constants it measured as the largest count in a frame: 19.0
 * for its training data, 18.5 for its test data (utils.py). evnn uses 19.0 for train and valid
 * (both come from the training users) and 18.5 for test, as EvNN does.
 */
export const COUNT_SCALE = { train: 19.0, valid: 19.0, test: 18.5 } as const;
/** EvNN's recipe (README: --frame-size 128): no pooling. */
export const DEFAULT_FRAME_SIZE = 128;

export const dvs128Dir = (dataDir: string): string => join(dataDir, DVS128);
