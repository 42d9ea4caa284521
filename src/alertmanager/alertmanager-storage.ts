import { Size } from 'cdk8s';
import { assertSize } from '../nginx/_validate';

const MIB = 1024;
/** 64 TiB: far beyond what Alertmanager's silences need, and within what sizes can express. */
const MAX_KIBIBYTES = 64 * 1024 * 1024 * 1024;

/**
 * Options of persistent storage.
 */
export interface PersistentStorageOptions {
  /**
   * Size of each replica's volume, in whole MiB.
   *
   * @default Size.gibibytes(1)
   */
  readonly size?: Size;

  /**
   * StorageClass of the volumes.
   *
   * @default - the cluster's default StorageClass
   */
  readonly storageClassName?: string;
}

/**
 * Where Alertmanager keeps silences and notification state.
 */
export class AlertmanagerStorage {
  /**
   * A PersistentVolumeClaim per replica: silences survive restarts.
   */
  public static persistent(options: PersistentStorageOptions = {}): AlertmanagerStorage {
    const size = options.size ?? Size.gibibytes(1);
    assertSize('size', size, MIB, MAX_KIBIBYTES, MIB);
    const className = options.storageClassName;
    if (className !== undefined && !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(className)) {
      throw new Error(
        `'storageClassName' must be a DNS-1123 subdomain, got ${JSON.stringify(className)}`,
      );
    }
    return new AlertmanagerStorage(true, size, className);
  }

  /**
   * An emptyDir: silences are lost when a pod is replaced, though with several replicas the
   * others keep them and hand them back.
   *
   * @param sizeLimit largest size of the volume, in whole MiB
   */
  public static ephemeral(sizeLimit: Size = Size.mebibytes(256)): AlertmanagerStorage {
    assertSize('sizeLimit', sizeLimit, MIB, MAX_KIBIBYTES, MIB);
    return new AlertmanagerStorage(false, sizeLimit, undefined);
  }

  /** Whether each replica gets a PersistentVolumeClaim. */
  public readonly isPersistent: boolean;

  /** Size of the claim, or the emptyDir's limit. */
  public readonly size: Size;

  /** StorageClass of the claims, if one was named. */
  public readonly storageClassName?: string;

  private constructor(persistent: boolean, size: Size, storageClassName: string | undefined) {
    this.isPersistent = persistent;
    this.size = size;
    this.storageClassName = storageClassName;
  }
}
