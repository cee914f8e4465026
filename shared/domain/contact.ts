/**
 * Where a partner is and whom to reach there: the parts of its profile that the enrollment form
 * repeats (docs/rules.md sections 1 and 2). Their own module, so that the partner record and its
 * enrollment both use them without importing each other.
 */
export interface Address {
  line1: string;
  city: string;
  postalCode: string;
  country: string;
}

export interface Contact {
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
}
