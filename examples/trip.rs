//! A saga: book a flight, book a hotel, take the payment; when a step fails, undo what was
//! already done, in reverse order, through Catch. A day before departure the itinerary goes
//! out (a Wait state that may last most of a year).
//!
//! ```text
//! cargo run --example trip
//! ```
//!
//! Its tests (`cargo test --example trip`) drive each failure point with scripted steps and
//! run the year-long wait instantly on virtual time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use workflow::prelude::*;
use workflow::render;

// ---------------------------------------------------------------------------------------------
// Payloads.

/// What the traveller asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct TripRequest {
    id: String,
    email: String,
    card: String,
    flight: String,
    hotel: String,
    departs_at: SystemTime,
    cents: u64,
}

/// The flight is booked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct FlightBooked {
    trip: TripRequest,
    flight_booking: String,
}

/// The hotel is booked too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct HotelBooked {
    flight: FlightBooked,
    hotel_booking: String,
}

/// Everything is booked and paid; the itinerary is due a day before departure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Paid {
    booked: HotelBooked,
    transaction: String,
    remind_at: SystemTime,
}

/// What the traveller receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Itinerary {
    trip: String,
    flight_booking: String,
    hotel_booking: String,
    transaction: String,
}

/// What was undone after a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Undone {
    trip: String,
    cancelled: Vec<String>,
    because: String,
}

// ---------------------------------------------------------------------------------------------
// Errors.

#[derive(Debug, thiserror::Error, StepError)]
enum FlightError {
    #[error("flight {0} is sold out")]
    SoldOut(String),
}

#[derive(Debug, thiserror::Error, StepError)]
enum HotelError {
    #[error("{0} has no rooms left")]
    NoRooms(String),
}

#[derive(Debug, thiserror::Error, StepError)]
enum PaymentError {
    #[error("the card was declined")]
    Declined,
    #[error("the payment provider did not answer")]
    GatewayTimeout,
}

// ---------------------------------------------------------------------------------------------
// Resources: stand-ins for the airline, the hotels and the payment provider.

/// Seats left per flight, and the bookings held.
#[derive(Default)]
struct Airline {
    seats: Mutex<HashMap<String, u32>>,
    bookings: Mutex<Vec<String>>,
}

/// Rooms left per hotel, and the bookings held.
#[derive(Default)]
struct Hotels {
    rooms: Mutex<HashMap<String, u32>>,
    bookings: Mutex<Vec<String>>,
}

/// Declines cards starting with 4000; times out on cards starting with 4999.
#[derive(Default)]
struct Payments;

fn take_one(left: &Mutex<HashMap<String, u32>>, what: &str) -> bool {
    let mut left = left.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match left.get_mut(what) {
        Some(count) if *count > 0 => {
            *count -= 1;
            true
        }
        _ => false,
    }
}

fn hold(bookings: &Mutex<Vec<String>>, booking: &str) {
    let mut bookings = bookings
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    bookings.push(booking.to_owned());
}

fn release(bookings: &Mutex<Vec<String>>, booking: &str) {
    let mut bookings = bookings
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    bookings.retain(|held| held != booking);
}

// ---------------------------------------------------------------------------------------------
// Steps: the bookings, and their compensations.

/// Books a seat.
#[step]
async fn book_flight(
    trip: TripRequest,
    airline: Res<Airline>,
) -> Result<FlightBooked, FlightError> {
    if !take_one(&airline.seats, &trip.flight) {
        return Err(FlightError::SoldOut(trip.flight.clone()));
    }
    let flight_booking = format!("{}-{}", trip.flight, trip.id);
    hold(&airline.bookings, &flight_booking);
    Ok(FlightBooked {
        trip,
        flight_booking,
    })
}

/// Books a room.
#[step]
async fn book_hotel(flight: FlightBooked, hotels: Res<Hotels>) -> Result<HotelBooked, HotelError> {
    if !take_one(&hotels.rooms, &flight.trip.hotel) {
        return Err(HotelError::NoRooms(flight.trip.hotel.clone()));
    }
    let hotel_booking = format!("{}-{}", flight.trip.hotel, flight.trip.id);
    hold(&hotels.bookings, &hotel_booking);
    Ok(HotelBooked {
        flight,
        hotel_booking,
    })
}

/// Takes the payment.
#[step(timeout = "20s")]
async fn charge(booked: HotelBooked, _payments: Res<Payments>) -> Result<Paid, PaymentError> {
    let trip = &booked.flight.trip;
    if trip.card.starts_with("4000") {
        return Err(PaymentError::Declined);
    }
    if trip.card.starts_with("4999") {
        return Err(PaymentError::GatewayTimeout);
    }
    let transaction = format!("txn-{}-{}", trip.id, trip.cents);
    let remind_at = trip.departs_at - Duration::from_secs(24 * 3600);
    Ok(Paid {
        booked,
        transaction,
        remind_at,
    })
}

/// Undoes the hotel booking, passing the failure on to the next compensation.
#[step]
async fn cancel_hotel(failed: Caught<HotelBooked>, hotels: Res<Hotels>) -> Caught<FlightBooked> {
    release(&hotels.bookings, &failed.input.hotel_booking);
    Caught {
        input: failed.input.flight,
        state: failed.state,
        error: failed.error,
        cause: failed.cause,
    }
}

/// Undoes the flight booking.
#[step]
async fn cancel_flight(failed: Caught<FlightBooked>, airline: Res<Airline>) -> Undone {
    release(&airline.bookings, &failed.input.flight_booking);
    Undone {
        trip: failed.input.trip.id,
        cancelled: vec![failed.input.flight_booking],
        because: format!("{} failed: {}", failed.state, failed.cause),
    }
}

/// Sends the itinerary.
#[step]
async fn send_itinerary(paid: Paid) -> Itinerary {
    Itinerary {
        trip: paid.booked.flight.trip.id.clone(),
        flight_booking: paid.booked.flight.flight_booking,
        hotel_booking: paid.booked.hotel_booking,
        transaction: paid.transaction,
    }
}

// ---------------------------------------------------------------------------------------------
// The saga.

workflow! {
    /// Books a trip: flight, hotel, payment. A failure undoes, in reverse order, what was done.
    TripBooking: Standard<TripRequest, Itinerary> {
        timeout 365d;
        start BookFlight;

        BookFlight: task book_flight -> BookHotel,
            catch FlightError::SoldOut -> NoFlight;
        BookHotel: task book_hotel -> Charge,
            catch HotelError::NoRooms -> CancelFlight;
        /// A timeout is retried; once retries are used up, it is undone like a decline.
        Charge: task charge -> WaitForTrip,
            retry PaymentError::GatewayTimeout | States::Timeout { max_attempts: 2, interval: 1s },
            catch PaymentError::* | States::Timeout -> CancelHotel;

        /// Compensations, in reverse order of the bookings.
        CancelHotel: task cancel_hotel -> CancelFlight;
        CancelFlight: task cancel_flight -> NotBooked;

        /// A day before departure.
        WaitForTrip: wait until |paid: &Paid| paid.remind_at -> SendItinerary;
        SendItinerary: task send_itinerary -> end;

        NoFlight: fail "FlightSoldOut", cause "The flight is sold out; nothing was booked";
        NotBooked: fail "TripNotBooked", cause "A booking failed; what was booked before it is cancelled";
    }
}

/// Seats on LH100; BA200 is sold out.
fn airline() -> Airline {
    let seats = [("LH100".to_owned(), 9), ("BA200".to_owned(), 0)];
    Airline {
        seats: Mutex::new(seats.into_iter().collect()),
        bookings: Mutex::default(),
    }
}

/// Rooms at the Grand; the Tiny is full.
fn hotels() -> Hotels {
    let rooms = [("Grand".to_owned(), 5), ("Tiny".to_owned(), 0)];
    Hotels {
        rooms: Mutex::new(rooms.into_iter().collect()),
        bookings: Mutex::default(),
    }
}

fn trip(id: &str, card: &str, flight: &str, hotel: &str, departs_in: Duration) -> TripRequest {
    TripRequest {
        id: id.to_owned(),
        email: "ada@example.com".to_owned(),
        card: card.to_owned(),
        flight: flight.to_owned(),
        hotel: hotel.to_owned(),
        departs_at: SystemTime::now() + departs_in,
        cents: 84_000,
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // `--diagram mermaid|dot|svg|asl` prints the workflow's picture instead of running it.
    if render::print_if_requested(TripBooking::definition())? {
        return Ok(());
    }
    let runtime = Runtime::builder()
        .resource(airline())
        .resource(hotels())
        .resource(Payments)
        .register::<TripBooking>()
        .build()?;

    // Departures a day and a second away: the itinerary waits one second.
    let soon = Duration::from_secs(24 * 3600 + 1);
    let trips = [
        trip("T-1", "4242", "LH100", "Grand", soon),
        trip("T-2", "4242", "BA200", "Grand", soon),
        trip("T-3", "4242", "LH100", "Tiny", soon),
        trip("T-4", "4000 1234", "LH100", "Grand", soon),
        trip("T-5", "4999 1234", "LH100", "Grand", soon),
    ];
    for request in trips {
        let id = request.id.clone();
        let execution = runtime.execute::<TripBooking>(request).await?;
        let path: Vec<&str> = execution
            .history()
            .events()
            .iter()
            .filter(|event| event.kind.name().ends_with("StateEntered"))
            .filter_map(|event| event.state.as_deref())
            .collect();
        match execution.result() {
            Ok(itinerary) => println!(
                "{id}: booked ({}) via {}",
                itinerary.transaction,
                path.join(" → ")
            ),
            Err(failure) => println!("{id}: {} via {}", failure.error(), path.join(" → ")),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use workflow::testing::{Harness, Script};

    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    const DAY: Duration = Duration::from_secs(24 * 3600);

    /// A trip departing in a year and a day, on the harness's virtual clock.
    fn request(harness: &Harness) -> TripRequest {
        TripRequest {
            departs_at: workflow::Clock::now(harness.clock()) + YEAR + DAY,
            ..trip("T-9", "4242", "LH100", "Grand", Duration::ZERO)
        }
    }

    fn flight(trip: TripRequest) -> FlightBooked {
        FlightBooked {
            flight_booking: format!("{}-{}", trip.flight, trip.id),
            trip,
        }
    }

    fn hotel(trip: TripRequest) -> HotelBooked {
        HotelBooked {
            hotel_booking: format!("{}-{}", trip.hotel, trip.id),
            flight: flight(trip),
        }
    }

    /// Bookings succeed (scripted), the payment is `charge`; compensations are the real steps.
    fn harness(charge: Script<super::charge>) -> Harness {
        Harness::builder()
            .resource(airline())
            .resource(hotels())
            .mock(Script::<book_flight>::new().ok(flight(request_now())))
            .mock(Script::<book_hotel>::new().ok(hotel(request_now())))
            .mock(charge)
            .register::<TripBooking>()
            .build()
            .expect("builds")
    }

    /// The booking scripts' trip (its departure does not matter to them).
    fn request_now() -> TripRequest {
        trip("T-9", "4242", "LH100", "Grand", Duration::ZERO)
    }

    #[workflow::test]
    async fn a_trip_a_year_ahead_waits_its_year_instantly() {
        // No mocks: the stand-in airline, hotels and payments.
        let harness = Harness::builder()
            .resource(airline())
            .resource(hotels())
            .resource(Payments)
            .register::<TripBooking>()
            .build()
            .expect("builds");
        let request = request(&harness);

        let run = harness.run::<TripBooking>(request).await;

        run.expect().succeeded().path([
            "BookFlight",
            "BookHotel",
            "Charge",
            "WaitForTrip",
            "SendItinerary",
        ]);
        // Departure in a year and a day; the itinerary goes out a day before: a year's wait.
        assert_eq!(run.elapsed(), YEAR);
        assert_eq!(
            run.output().map(|i| i.transaction.as_str()),
            Some("txn-T-9-84000")
        );
    }

    #[workflow::test]
    async fn a_sold_out_flight_books_nothing() {
        let harness = Harness::builder()
            .resource(airline())
            .resource(hotels())
            .mock(Script::<book_flight>::new().err(FlightError::SoldOut("LH100".to_owned())))
            .mock(Script::<book_hotel>::new())
            .mock(Script::<super::charge>::new())
            .register::<TripBooking>()
            .build()
            .expect("builds");

        let run = harness.run::<TripBooking>(request(&harness)).await;

        run.expect()
            .failed_with("FlightSoldOut")
            .path(["BookFlight", "NoFlight"])
            .caught("BookFlight", "FlightError.SoldOut", "NoFlight")
            .not_entered("CancelFlight");
    }

    #[workflow::test]
    async fn a_full_hotel_cancels_the_flight() {
        let harness = Harness::builder()
            .resource(airline())
            .resource(hotels())
            .mock(Script::<book_flight>::new().ok(flight(request_now())))
            .mock(Script::<book_hotel>::new().err(HotelError::NoRooms("Grand".to_owned())))
            .mock(Script::<super::charge>::new())
            .register::<TripBooking>()
            .build()
            .expect("builds");

        let run = harness.run::<TripBooking>(request(&harness)).await;

        run.expect()
            .failed_with("TripNotBooked")
            .path(["BookFlight", "BookHotel", "CancelFlight", "NotBooked"])
            .caught("BookHotel", "HotelError.NoRooms", "CancelFlight")
            .not_entered("CancelHotel");
    }

    #[workflow::test]
    async fn a_declined_card_cancels_the_hotel_then_the_flight() {
        let run = harness(Script::new().err(PaymentError::Declined))
            .run::<TripBooking>(request_now())
            .await;

        run.expect()
            .failed_with("TripNotBooked")
            .path([
                "BookFlight",
                "BookHotel",
                "Charge",
                "CancelHotel",
                "CancelFlight",
                "NotBooked",
            ])
            .attempts("Charge", 1)
            .caught("Charge", "PaymentError.Declined", "CancelHotel");
    }

    #[workflow::test]
    async fn a_payment_provider_down_for_good_is_undone_after_its_retries() {
        let charge = Script::new().hang().hang().hang();
        let run = harness(charge.clone())
            .run::<TripBooking>(request_now())
            .await;

        run.expect()
            .failed_with("TripNotBooked")
            .attempts("Charge", 3)
            .caught("Charge", "States.Timeout", "CancelHotel");
        // Three 20 s timeouts, and retry delays of 1 s then 2 s (backoff 2.0).
        assert_eq!(run.elapsed(), Duration::from_secs(63));
        assert_eq!(charge.calls(), 3);
    }

    #[workflow::test]
    async fn the_first_compensation_alone_passes_the_failure_on() {
        let harness = harness(Script::new());
        let caught = Caught {
            input: hotel(request_now()),
            state: "Charge".to_owned(),
            error: "PaymentError.Declined".to_owned(),
            cause: "the card was declined".to_owned(),
        };

        let cancel = harness
            .state::<TripBooking>("CancelHotel")
            .run(caught)
            .await;

        assert_eq!(cancel.next_state(), Some("CancelFlight"));
        let passed_on: Caught<FlightBooked> = cancel.output().expect("a Caught<FlightBooked>");
        assert_eq!(passed_on.error, "PaymentError.Declined");
        assert_eq!(passed_on.input.flight_booking, "LH100-T-9");
    }

    #[test]
    fn the_diagrams_are_as_reviewed() {
        // Its pictures, as reviewed (`UPDATE_GOLDEN=1` rewrites them after a change).
        let reviewed = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden");
        workflow::testing::assert_diagrams(TripBooking::definition(), reviewed);
    }
}
